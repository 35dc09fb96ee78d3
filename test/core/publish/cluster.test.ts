// The throwaway PostgreSQL cluster the publish tests use: it starts, takes a password connection on 127.0.0.1,
// runs in UTC, and survives a stop and a start (the stop-mid-publish test relies on that).
import { describe, expect, it } from 'vitest';
import { usePgCluster, withPgClient } from '../../helpers/pg.js';

const server = usePgCluster('test/core/publish/cluster.test.ts');

async function now(url: string): Promise<string> {
  return withPgClient(url, async (client) => (await client.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz")).rows[0]?.tz ?? '');
}

describe('throwaway PostgreSQL cluster', () => {
  it('accepts the password on 127.0.0.1, refuses a wrong one, restarts after a stop', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const { url } = server.cluster;
    expect(await now(url)).toBe('UTC');
    await expect(now(url.replace(/:[^:@/]+@/, ':wrong@'))).rejects.toThrow(/password authentication failed/);
    server.cluster.stop();
    await expect(now(url)).rejects.toThrow();
    server.cluster.start();
    expect(await now(url)).toBe('UTC');
  });
});
