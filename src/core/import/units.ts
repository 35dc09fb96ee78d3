// Unit conversion through UCUM (@lhncbc/ucum-lhc, NLM's implementation). Computed once per distinct
// (source unit, target unit) pair in JS, as a linear map value * scale + offset (affine for temperatures), then
// applied in SQL as a join: rows never cross into JS. Glucose amount-of-substance units (mmol/L) convert to mass
// (mg/dL) with the molar mass the rules file states (glucose.molar_mass_g_per_mol).
import { createRequire } from 'node:module';

export interface Conversion {
  from: string;
  to: string;
  /** value_in_to = value_in_from * scale + offset; null when the units are not commensurable. */
  scale: number | null;
  offset: number | null;
  /** Why not, when scale is null. */
  reason: string | null;
}

/** Common non-UCUM spellings seen in vendor feeds, read as the UCUM code they mean. */
export const UNIT_ALIASES: Readonly<Record<string, string>> = {
  mmHg: 'mm[Hg]',
  'mm Hg': 'mm[Hg]',
  bpm: '/min',
  'beats/min': '/min',
  'breaths/min': '/min',
  degC: 'Cel',
  '°C': 'Cel',
  C: 'Cel',
  degF: '[degF]',
  '°F': '[degF]',
  F: '[degF]',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  'kg/m2': 'kg/m2',
  fraction: '1',
};

interface UcumUtils {
  convertUnitTo(from: string, value: number, to: string, opts?: { molecularWeight?: number }): { status: string; toVal: number | null; msg: string[] };
}

let utils: UcumUtils | undefined;
function ucum(): UcumUtils {
  if (!utils) {
    // CommonJS package; loaded on first use so `surgctl --help` never pays for its unit tables.
    const req = createRequire(import.meta.url);
    utils = (req('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } }).UcumLhcUtils.getInstance();
  }
  return utils;
}

/** The UCUM code a source unit string means (aliases resolved, spaces trimmed). */
export function ucumCode(unit: string): string {
  const u = unit.trim();
  return UNIT_ALIASES[u] ?? u;
}

function convertOne(from: string, to: string, value: number, molarMass: number | undefined): number | string {
  const r = ucum().convertUnitTo(from, value, to, molarMass === undefined ? undefined : { molecularWeight: molarMass });
  if (r.status === 'succeeded' && typeof r.toVal === 'number' && Number.isFinite(r.toVal)) return r.toVal;
  return (r.msg ?? []).join('; ') || `cannot convert ${from} to ${to}`;
}

/**
 * The conversion from unit `from` to unit `to` as scale and offset, or the reason it does not exist
 * (incommensurable units, an unknown unit). `molarMass` (g/mol) allows mol <-> mass conversions.
 * The result is checked to be linear (f(100) = 100 * scale + offset) so a non-linear special unit is refused.
 */
export function conversion(from: string, to: string, molarMass?: number): Conversion {
  const f = ucumCode(from);
  const t = ucumCode(to);
  if (f === t) return { from, to, scale: 1, offset: 0, reason: null };
  const at0 = convertOne(f, t, 0, molarMass);
  const at1 = convertOne(f, t, 1, molarMass);
  const at100 = convertOne(f, t, 100, molarMass);
  if (typeof at0 === 'string') return { from, to, scale: null, offset: null, reason: `unit ${from} cannot be converted to ${to}: ${at0}` };
  if (typeof at1 !== 'number' || typeof at100 !== 'number') return { from, to, scale: null, offset: null, reason: `unit ${from} cannot be converted to ${to}` };
  const scale = at1 - at0;
  const offset = at0;
  if (Math.abs(at100 - (100 * scale + offset)) > 1e-9 * Math.max(1, Math.abs(at100))) {
    return { from, to, scale: null, offset: null, reason: `unit ${from} converts to ${to} non-linearly; not supported` };
  }
  return { from, to, scale: round15(scale), offset: round15(offset), reason: null };
}

/** Rounds away binary noise from the library's arithmetic (1.8000000000000003 -> 1.8), to 15 significant digits. */
function round15(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(15));
}
