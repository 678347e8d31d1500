import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Runs `text` as the named prepared statement `name` on a connection of the pool: PostgreSQL
 * parses and plans it once per connection instead of on every call, as for the statements a
 * process runs on every visit to a host it does not hold (planning was about half of their
 * cost). Like the append's, it needs a session per connection (deploy/README.md, "Connections").
 */
export async function preparedQuery<T>(dataSource: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  return (await pool.query({ name, text, values })).rows as T[];
}
