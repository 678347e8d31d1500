import { Pool } from 'pg';
import { measure, type Measurement } from './service-measure';

/** Single-row INSERT appends, one stream per client, autocommit: the floor of any PostgreSQL event store. */
export async function rawPgAppends(databaseUrl: string, clients: number, seconds: number): Promise<Measurement> {
  const pool = new Pool({ connectionString: databaseUrl, max: clients });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS raw_events (stream_id text, version integer, data jsonb, PRIMARY KEY (stream_id, version))');
    const versions = new Array<number>(clients).fill(0);
    return await measure(clients, seconds, async (c) => {
      await pool.query('INSERT INTO raw_events (stream_id, version, data) VALUES ($1, $2, $3)', [
        `raw-${clients}-${c}`,
        ++versions[c],
        JSON.stringify({ fdId: `fd-${c}`, ioasid: versions[c] }),
      ]);
      return 1;
    });
  } finally {
    await pool.end();
  }
}

/** Emmett's appendToStream with an expected version, one stream per client. */
export async function emmettAppends(databaseUrl: string, clients: number, seconds: number): Promise<Measurement> {
  // ESM-only package: a dynamic import keeps it out of the CommonJS require graph.
  const { getPostgreSQLEventStore } = await import('@event-driven-io/emmett-postgresql');
  const pool = new Pool({ connectionString: databaseUrl, max: clients });
  const store = getPostgreSQLEventStore(databaseUrl, { connectionOptions: { pool } });
  try {
    const event = (c: number, n: number) => ({ type: 'IoasidAllocated', data: { fdId: `fd-${c}`, ioasid: n } });
    // The first append creates Emmett's schema: outside the clock.
    await store.appendToStream(`warmup-${clients}`, [event(0, 0)]);
    const expected = new Array<bigint>(clients).fill(0n);
    const counts = new Array<number>(clients).fill(0);
    return await measure(clients, seconds, async (c) => {
      const result = await store.appendToStream(`emmett-${clients}-${c}`, [event(c, ++counts[c])], { expectedStreamVersion: expected[c] });
      expected[c] = result.nextExpectedStreamVersion;
      return 1;
    });
  } finally {
    await store.close();
    await pool.end().catch(() => undefined);
  }
}
