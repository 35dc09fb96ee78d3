// Where publish writes: the PostgreSQL URL from --to, else `publish.url` in the config file, else DATABASE_URL,
// and the schema (--schema, `publish.schema`, default surgctl). The password is never shown: every message, log
// line and run-history entry uses redactUrl, and scrubSecret removes it from any server text that might echo it.
import { ExitCode, SurgctlError, UsageError } from '../../errors.js';

export const DEFAULT_PUBLISH_SCHEMA = 'surgctl';

/** Publish failed talking to the target, or the lakehouse is not in a state to publish. */
export class PublishError extends SurgctlError {
  constructor(code: string, message: string, options: { hint?: string | undefined; cause?: unknown; exitCode?: typeof ExitCode.usage | typeof ExitCode.runtime } = {}) {
    super(code, options.exitCode ?? ExitCode.runtime, message, { hint: options.hint, cause: options.cause });
  }
}

export interface PublishTarget {
  /** The connection string as given (holds the password: never print it). */
  url: string;
  /** The same URL with the password replaced by ***, for messages and the ledger. */
  redacted: string;
  /** The password, when the URL has one (to scrub it from server messages). */
  secret: string | undefined;
  from: 'flag' | 'config' | 'env';
  schema: string;
}

/** postgresql://user:***@host:port/db; a URL without a password is returned as given. Never throws. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    u.searchParams.forEach((_, k) => {
      if (/^(password|sslpassword|sslkey)$/i.test(k)) u.searchParams.set(k, '***');
    });
    return u.toString();
  } catch {
    return url.replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(password=)[^&\s]*/gi, '$1***');
  }
}

/** Replaces every occurrence of the secret (raw and URL-encoded) with ***. */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text;
  for (const s of new Set([secret, encodeURIComponent(secret)])) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Picks the target: flag > config `publish.url` > DATABASE_URL. Throws UsageError when none is given, when it is
 * not a postgres:// or postgresql:// URL, or when the schema is not a plain lower-case identifier.
 */
export function resolvePublishTarget(opts: {
  to?: string | undefined;
  schema?: string | undefined;
  config?: { url?: string | undefined; schema?: string | undefined } | undefined;
  env: NodeJS.ProcessEnv;
}): PublishTarget {
  const picked: [string, PublishTarget['from']] | undefined =
    opts.to !== undefined ? [opts.to, 'flag'] : opts.config?.url !== undefined ? [opts.config.url, 'config'] : opts.env.DATABASE_URL ? [opts.env.DATABASE_URL, 'env'] : undefined;
  if (picked === undefined) {
    throw new UsageError('publish needs a PostgreSQL server to write to', {
      hint: 'pass --to postgresql://USER@HOST:PORT/DB, set publish.url in surgctl.config.json, or set DATABASE_URL',
    });
  }
  const [url, from] = picked;
  const where = from === 'flag' ? '--to' : from === 'config' ? 'publish.url' : 'DATABASE_URL';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${where} is not a URL: ${redactUrl(url)}`, { field: where, hint: 'e.g. postgresql://surgctl@127.0.0.1:5432/clinic' });
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new UsageError(`${where} must be a postgresql:// URL, got ${parsed.protocol}//...`, { field: where, hint: 'e.g. postgresql://surgctl@127.0.0.1:5432/clinic' });
  }
  const schema = opts.schema ?? opts.config?.schema ?? DEFAULT_PUBLISH_SCHEMA;
  if (!SCHEMA_RE.test(schema)) {
    throw new UsageError(`--schema ${JSON.stringify(schema)} is not a plain PostgreSQL schema name`, {
      field: '--schema',
      hint: 'use lower-case letters, digits and _ (at most 63), starting with a letter or _',
    });
  }
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  return { url, redacted: redactUrl(url), secret: password, from, schema };
}
