// Memory sizes as a user writes them for DuckDB's memory_limit (SURGCTL_MEMORY_LIMIT, a lakehouse's limits): a number
// and a unit. No DuckDB import: the CLI checks SURGCTL_MEMORY_LIMIT at every start.

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** Decimal megabytes (10^6 bytes) in one unit; KiB to TiB are binary (1 MiB = 2^20 bytes). */
const MB_PER_UNIT: Readonly<Record<string, number>> = {
  B: 1e-6, KB: 1e-3, MB: 1, GB: 1e3, TB: 1e6, KIB: 1024 / 1e6, MIB: 2 ** 20 / 1e6, GIB: 2 ** 30 / 1e6, TIB: 2 ** 40 / 1e6,
};

/**
 * The size `size` names, in decimal megabytes (1 MB = 10^6 bytes): a number (digits, optionally a fraction) and one
 * of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB in any case, with spaces around or between them allowed ('512MB',
 * ' 1.5 GiB'). Undefined for anything else (no unit, a sign, an exponent, an unknown unit). Never throws.
 */
export function megabytes(size: string): number | undefined {
  const m = SIZE.exec(size.trim());
  if (!m) return undefined;
  const scale = MB_PER_UNIT[(m[2] as string).toUpperCase()];
  return scale === undefined ? undefined : Number(m[1]) * scale;
}
