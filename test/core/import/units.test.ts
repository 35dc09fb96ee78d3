import { describe, expect, it } from 'vitest';
import { conversion, ucumCode } from '../../../src/core/import/units.js';

describe('UCUM conversions (one per unit pair)', () => {
  it('converts the units real feeds use to the contract units', () => {
    expect(conversion('mm[Hg]', 'mmHg')).toMatchObject({ scale: 1, offset: 0 });
    expect(conversion('[lb_av]', 'kg')).toMatchObject({ scale: 0.45359237, offset: 0 });
    expect(conversion('g', 'kg')).toMatchObject({ scale: 0.001, offset: 0 });
    expect(conversion('1', '%')).toMatchObject({ scale: 100, offset: 0 });
    expect(conversion('{beats}/min', '/min')).toMatchObject({ scale: 1, offset: 0 });
    const f = conversion('[degF]', 'Cel');
    expect(f.scale! * 212 + f.offset!).toBeCloseTo(100, 9);
    expect(f.scale! * 32 + f.offset!).toBeCloseTo(0, 9);
  });

  it('converts glucose mmol/L to mg/dL only with a molar mass', () => {
    expect(conversion('mmol/L', 'mg/dL', 180.156).scale).toBeCloseTo(18.0156, 9);
    expect(conversion('mmol/L', 'mg/dL').scale).toBeNull();
  });

  it('refuses incommensurable and unknown units with a reason', () => {
    const c = conversion('kg/m2', 'kg');
    expect(c.scale).toBeNull();
    expect(c.reason).toMatch(/unit kg\/m2 cannot be converted to kg/);
    expect(conversion('furlongs', '/min').reason).toMatch(/furlongs/);
  });

  it('reads common non-UCUM spellings as the UCUM code they mean', () => {
    expect(ucumCode(' mmHg ')).toBe('mm[Hg]');
    expect(ucumCode('bpm')).toBe('/min');
    expect(ucumCode('°F')).toBe('[degF]');
  });
});
