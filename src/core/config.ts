// The effective configuration: built-in defaults < surgctl.config.json (validated by schemas/config.schema.json)
// < SURGCTL_* environment variables < flags. Every value remembers where it came from, for `surgctl config show`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError } from '../errors.js';
import { builtinSchemaDir } from './schemas.js';
import { CONFIG_FILE } from './db-path.js';
import { DEFAULT_BAD_ROWS, DEFAULT_MAX_INVALID, type DataFormat } from './domain.js';

export interface Config {
  db: string;
  data_dir: string;
  quarantine_dir: string;
  rules: string | null;
  seed: number;
  scale: number;
  format: DataFormat;
  bad_rows: number;
  incidents: number;
  max_invalid: string;
  lock_timeout_s: number;
  log_format: 'text' | 'json';
}

/** The config file's `publish` object (surgctl publish). */
export interface PublishConfig {
  url?: string | undefined;
  schema?: string | undefined;
}

export type Source = 'default' | 'config' | 'env' | 'flag';
export type Effective = { [K in keyof Config]: { value: Config[K]; from: Source } };

export const DEFAULTS: Config = {
  db: 'surgctl.duckdb',
  data_dir: 'surgctl-data',
  quarantine_dir: 'quarantine',
  rules: null,
  seed: 7,
  scale: 1,
  format: 'csv',
  bad_rows: DEFAULT_BAD_ROWS,
  incidents: 0.05,
  max_invalid: DEFAULT_MAX_INVALID,
  lock_timeout_s: 5,
  log_format: 'text',
};

const PATH_KEYS = new Set<keyof Config>(['db', 'data_dir', 'quarantine_dir', 'rules']);

const ENV: Partial<Record<keyof Config, string>> = {
  db: 'SURGCTL_DB',
  data_dir: 'SURGCTL_DATA_DIR',
  quarantine_dir: 'SURGCTL_QUARANTINE_DIR',
  rules: 'SURGCTL_RULES',
  seed: 'SURGCTL_SEED',
  scale: 'SURGCTL_SCALE',
  log_format: 'SURGCTL_LOG_FORMAT',
};

function validator() {
  const schema = JSON.parse(readFileSync(resolve(builtinSchemaDir(), 'config.schema.json'), 'utf8')) as object;
  return new Ajv2020({ allErrors: true, strict: false }).compile(schema);
}

/**
 * Resolves the effective configuration. `flags` holds only values the user actually gave.
 * Throws ConfigError naming the file and field for an invalid config file or environment value.
 */
export function loadConfig(opts: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  flags?: Partial<Config>;
  configPath?: string | undefined;
}): { config: Config; effective: Effective; file: string | null; publish: PublishConfig | undefined } {
  let publish: PublishConfig | undefined;
  const effective = Object.fromEntries(
    Object.entries(DEFAULTS).map(([k, v]) => [k, { value: PATH_KEYS.has(k as keyof Config) && typeof v === 'string' ? resolve(opts.cwd, v) : v, from: 'default' }]),
  ) as Effective;
  const set = <K extends keyof Config>(k: K, value: Config[K], from: Source): void => {
    (effective as Record<keyof Config, { value: unknown; from: Source }>)[k] = { value, from };
  };
  const file = opts.configPath ? resolve(opts.cwd, opts.configPath) : resolve(opts.cwd, CONFIG_FILE);
  let found: string | null = null;
  if (existsSync(file)) {
    found = file;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`, { file, cause: e });
    }
    const validate = validator();
    if (!validate(raw)) {
      const err = validate.errors?.[0];
      const field = err?.instancePath.replace(/^\//, '') || (err?.params as { additionalProperty?: string }).additionalProperty || '';
      throw new ConfigError(`${file}: ${field ? `"${field}" ` : ''}${err?.message ?? 'is invalid'}`, {
        file,
        field: field || undefined,
        hint: 'see schemas/config.schema.json for the keys and their types',
      });
    }
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (k === '$schema') continue;
      // publish.url may hold a password: kept out of `effective` (config show prints it), read by publish alone.
      if (k === 'publish') {
        publish = v as PublishConfig;
        continue;
      }
      const key = k as keyof Config;
      set(key, (PATH_KEYS.has(key) && typeof v === 'string' ? resolve(dirname(file), v) : v) as never, 'config');
    }
  } else if (opts.configPath) {
    throw new ConfigError(`config file ${file} does not exist`, { file });
  }
  for (const [k, name] of Object.entries(ENV) as [keyof Config, string][]) {
    const v = opts.env[name];
    if (v === undefined || v === '') continue;
    set(k, parseEnv(k, name, v, opts.cwd) as never, 'env');
  }
  for (const [k, v] of Object.entries(opts.flags ?? {}) as [keyof Config, unknown][]) {
    if (v === undefined) continue;
    set(k, (PATH_KEYS.has(k) && typeof v === 'string' ? resolve(opts.cwd, v) : v) as never, 'flag');
  }
  const config = Object.fromEntries(Object.entries(effective).map(([k, e]) => [k, e.value])) as unknown as Config;
  return { config, effective, file: found, publish };
}

function parseEnv(key: keyof Config, name: string, v: string, cwd: string): unknown {
  if (PATH_KEYS.has(key)) return resolve(cwd, v);
  if (key === 'seed' || key === 'scale') {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (key === 'seed' && !Number.isInteger(n))) {
      throw new ConfigError(`${name}=${v} is not a valid ${key}`, { field: name });
    }
    return n;
  }
  if (key === 'log_format' && v !== 'text' && v !== 'json') throw new ConfigError(`${name} must be text or json, got ${v}`, { field: name });
  return v;
}
