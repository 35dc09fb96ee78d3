// The one reader of the package version: --version, the generate manifest, Parquet provenance and HTML footers all
// print what this returns, so they always agree with package.json (set by `npm version`).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The surgctl version from package.json (src/ and dist/ sit at the same depth below it). */
export function surgctlVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cached = pkg.version ?? 'unknown';
  }
  return cached;
}

export interface RuntimeInfo {
  surgctl: string;
  node: string;
  duckdb: string;
  /** The @duckdb/node-api package version (it carries DuckDB's version plus its own revision). */
  duckdbNodeApi: string;
  platform: string;
  arch: string;
}

/** What a bug report needs: surgctl, Node, DuckDB and the platform. Loads DuckDB's bindings (about 0.1 s). */
export async function runtimeInfo(): Promise<RuntimeInfo> {
  const { version } = (await import('../db/duckdb-api.js')).duckdb;
  const api = JSON.parse(readFileSync(new URL(import.meta.resolve('@duckdb/node-api/package.json')), 'utf8')) as { version: string };
  return {
    surgctl: surgctlVersion(),
    node: process.version,
    duckdb: version(),
    duckdbNodeApi: api.version,
    platform: process.platform,
    arch: process.arch,
  };
}
