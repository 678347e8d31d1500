import { InitialSchema1732420000000 } from './1732420000000-initial-schema';
import { MigrationsReadModel1732430000000 } from './1732430000000-migrations-read-model';

/** Every migration, oldest first: listed explicitly so that tests, the CLI and the server share one list without globbing dist/. */
export const MIGRATIONS = [InitialSchema1732420000000, MigrationsReadModel1732430000000];
