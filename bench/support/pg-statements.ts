import { Client } from 'pg';

/**
 * Where PostgreSQL's time goes during a measured phase, per statement (pg_stat_statements, which
 * the server must preload) and per index (blocks read against hit), for one database: reset
 * right before the phase, printed right after. For the benchmarks' FLEET_PG_STATEMENTS.
 */
export class PgStatements {
  private constructor(private readonly client: Client) {}

  static async open(url: string): Promise<PgStatements> {
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    return new PgStatements(client);
  }

  async reset(): Promise<void> {
    await this.client.query(`SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)`);
    await this.client.query('SELECT pg_stat_reset()');
  }

  /** The `top` statements by execution time, per command of the phase, then every index's block reads. */
  async print(label: string, commands: number, top: number): Promise<void> {
    const { rows } = await this.client.query(
      `SELECT calls, total_exec_time AS ms, shared_blks_hit AS hit, shared_blks_read AS read, shared_blks_dirtied AS dirtied, wal_fpi AS fpi,
              regexp_replace(left(query, 110), '\\s+', ' ', 'g') AS query
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT $1`,
      [top],
    );
    const per = (n: number) => (n / commands).toFixed(3);
    console.log(`pg_stat_statements, ${label}, ${commands} commands: ms/call, calls/cmd, ms/cmd, blks hit/cmd, read/cmd, dirtied/cmd, fpi/cmd, query`);
    for (const r of rows) {
      const calls = Number(r.calls);
      console.log(`  ${(r.ms / calls).toFixed(3)} ${per(calls)} ${per(r.ms)} ${per(Number(r.hit))} ${per(Number(r.read))} ${per(Number(r.dirtied))} ${per(Number(r.fpi))}  ${r.query}`);
    }
    const indexes = await this.client.query(
      `SELECT relname, indexrelname, idx_blks_read AS read, idx_blks_hit AS hit FROM pg_statio_user_indexes
        WHERE idx_blks_read + idx_blks_hit > 0 ORDER BY idx_blks_read DESC LIMIT 20`,
    );
    const tables = await this.client.query(
      `SELECT relname, heap_blks_read AS read, heap_blks_hit AS hit FROM pg_statio_user_tables
        WHERE heap_blks_read + heap_blks_hit > 0 ORDER BY heap_blks_read DESC LIMIT 12`,
    );
    console.log(`blocks per command, ${label}: read / hit`);
    for (const r of [...tables.rows.map((t) => ({ ...t, indexrelname: '(heap)' })), ...indexes.rows]) {
      console.log(`  ${r.relname}.${r.indexrelname}: ${per(Number(r.read))} / ${per(Number(r.hit))}`);
    }
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
