import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from './postgres';

export type StorageKind = 'postgres' | 'pglite';

/** Where a suite's database lives: a fresh PostgreSQL database, or a fresh PGlite data directory. */
export interface TestStorage {
  kind: StorageKind;
  /** Set for PostgreSQL; unset selects PGlite in dataDir (as the product does). */
  databaseUrl?: string;
  dataDir: string;
  dispose(): Promise<void>;
}

export async function createTestStorage(kind: StorageKind): Promise<TestStorage> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ioasid-test-'));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  if (kind === 'pglite') return { kind, dataDir, dispose: removeDir };
  const db = await createTestDatabase();
  return {
    kind,
    databaseUrl: db.url,
    dataDir,
    dispose: async () => {
      await db.drop();
      await removeDir();
    },
  };
}
