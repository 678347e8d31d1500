import { Inject, Injectable, Module, type BeforeApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config';
import { InProcessTransport } from './in-process-transport';
import { kafkaTransportFromConfig } from './kafka/kafka-transport-from-config';
import { OutboxRelay } from './outbox-relay';
import { EVENT_TRANSPORT, type EventTransport } from './transport';

/** The transport that config selects: in-process when KAFKA_BROKERS is unset. */
export function createTransport(config: AppConfig): EventTransport {
  const { kafkaBrokers } = config;
  return kafkaBrokers?.length ? kafkaTransportFromConfig({ ...config, kafkaBrokers }) : new InProcessTransport();
}

/** Closes the transport after the relay and the projector stopped using it (they stop in onModuleDestroy). */
@Injectable()
class TransportLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(EVENT_TRANSPORT) private readonly transport: EventTransport) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}

/** The event transport and the outbox relay that feeds it; needs StoreModule (global) and APP_CONFIG. */
@Module({
  providers: [
    { provide: EVENT_TRANSPORT, inject: [APP_CONFIG], useFactory: createTransport },
    OutboxRelay,
    TransportLifecycle,
  ],
  exports: [EVENT_TRANSPORT, OutboxRelay],
})
export class MessagingModule {}
