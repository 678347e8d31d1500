import { InitialSchema1732420000000 } from './1732420000000-initial-schema';
import { MigrationsReadModel1732430000000 } from './1732430000000-migrations-read-model';
import { CheckpointWithoutHash1732440000000 } from './1732440000000-checkpoint-without-hash';
import { CanonicalEventData1732450000000 } from './1732450000000-canonical-event-data';
import { IdempotencyWithoutStatus1732460000000 } from './1732460000000-idempotency-without-status';
import { EventTransactionIds1732470000000 } from './1732470000000-event-transaction-ids';
import { EventsOneHostIndex1732480000000 } from './1732480000000-events-one-host-index';

/** Every migration, oldest first: listed explicitly so that tests, the CLI and the server share one list without globbing dist/. */
export const MIGRATIONS = [
  InitialSchema1732420000000,
  MigrationsReadModel1732430000000,
  CheckpointWithoutHash1732440000000,
  CanonicalEventData1732450000000,
  IdempotencyWithoutStatus1732460000000,
  EventTransactionIds1732470000000,
  EventsOneHostIndex1732480000000,
];
