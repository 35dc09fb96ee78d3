import { describe, expect, it } from 'vitest';
import { cell, duration, shortTime, sparkline } from '../../src/tui/format.js';
import { paintFrame } from '../../src/tui/paint.js';

describe('format', () => {
  it('draws a sparkline scaled between the minimum and maximum, gaps as spaces', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([10, null, 10])).toBe('█ █');
    expect(sparkline([null, null])).toBe('  ');
    expect(sparkline([1, 100])).toBe('▁█');
  });

  it('cuts and pads cells to an exact width', () => {
    expect(cell('abc', 5)).toBe('abc  ');
    expect(cell('abc', 5, 'right')).toBe('  abc');
    expect(cell('abcdef', 4)).toBe('abc…');
    expect(cell('x', 0)).toBe('');
  });

  it('formats times and durations in UTC', () => {
    expect(shortTime('2026-01-05T10:29:55Z')).toBe('01-05 10:29:55');
    expect(duration('2026-01-05T10:00:00Z', '2026-01-05T10:00:32Z')).toBe('32s');
    expect(duration('2026-01-05T10:00:00Z', '2026-01-05T10:04:10Z')).toBe('4m10s');
    expect(duration('2026-01-05T10:00:00Z', '2026-01-05T12:05:00Z')).toBe('2h05m');
  });

  it('paints a frame as ANSI text, with colour only when asked', () => {
    const lines = [[{ text: 'CRIT', color: 'red', bold: true }, { text: ' x' }], [{ text: 'sel', inverse: true }]];
    expect(paintFrame(lines, true)).toBe('\u001b[H\u001b[1;31mCRIT\u001b[0m x\u001b[K\n\u001b[7msel\u001b[0m\u001b[K\n\u001b[H');
    expect(paintFrame(lines, false)).not.toContain('31');
  });
});
