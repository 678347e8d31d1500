import type { KafkaMessage, Message } from 'kafkajs';
import type { EventEnvelope } from '../../model/envelope';

/**
 * The Kafka form of an event (API.md "Events"): key = hostId, so that one host's events
 * share a partition and keep their order; value = the envelope as JSON; headers `type`
 * and `schema-version` let consumers route or skip without parsing the value.
 */
export function toKafkaMessage(envelope: EventEnvelope): Message {
  return {
    key: envelope.hostId,
    value: JSON.stringify(envelope),
    headers: { type: envelope.type, 'schema-version': String(envelope.schemaVersion) },
  };
}

export class MalformedEventMessage extends Error {}

/** The envelope in a consumed message; throws MalformedEventMessage when the value is not one. */
export function fromKafkaMessage(message: KafkaMessage): EventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch {
    throw new MalformedEventMessage(`offset ${message.offset}: value is not JSON`);
  }
  if (!isEnvelope(value)) throw new MalformedEventMessage(`offset ${message.offset}: value is not an event envelope`);
  return value;
}

function isEnvelope(v: unknown): v is EventEnvelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.hostId === 'string' &&
    Number.isSafeInteger(e.version) &&
    (e.version as number) >= 1 &&
    typeof e.type === 'string' &&
    typeof e.eventId === 'string' &&
    typeof e.hash === 'string' &&
    typeof e.prevHash === 'string' &&
    typeof e.data === 'object' &&
    e.data !== null
  );
}
