// Where the lakehouse lives: --db flag, else SURGCTL_DB, else the config file's "db", else ./surgctl.duckdb.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export const DEFAULT_DB_FILE = 'surgctl.duckdb';
export const CONFIG_FILE = 'surgctl.config.json';

export interface DbPathSource {
  path: string;
  from: 'flag' | 'env' | 'config' | 'default';
}

/**
 * Resolves the lakehouse path (absolute). Does not open or create it. `configPath` (--config) names the config file
 * instead of ./surgctl.config.json; a named file that does not exist is a ConfigError.
 */
export function resolveDbPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string, configPath?: string): DbPathSource {
  if (flag) return { path: resolve(cwd, flag), from: 'flag' };
  if (env.SURGCTL_DB) return { path: resolve(cwd, env.SURGCTL_DB), from: 'env' };
  const cfg = resolve(cwd, configPath ?? CONFIG_FILE);
  if (configPath !== undefined && !existsSync(cfg)) {
    throw new ConfigError(`config file ${cfg} does not exist`, { file: cfg, hint: 'check the --config path, or leave it out to use ./surgctl.config.json' });
  }
  if (existsSync(cfg)) {
    let parsed: { db?: unknown };
    try {
      parsed = JSON.parse(readFileSync(cfg, 'utf8')) as { db?: unknown };
    } catch (e) {
      throw new ConfigError(`${cfg} is not valid JSON: ${(e as Error).message}`, { file: cfg, cause: e });
    }
    if (typeof parsed.db === 'string') return { path: resolve(dirname(cfg), parsed.db), from: 'config' };
  }
  return { path: resolve(cwd, DEFAULT_DB_FILE), from: 'default' };
}
