import type { EventEnvelope } from '../../model/envelope';
import type { EventPage } from '../../model/events';

/**
 * The few answers whose REST JSON has no fixed protobuf shape: the proto carries those
 * parts as JSON strings (ioasid.proto "Conventions"). Every other answer is REST's body
 * as it is, since the messages mirror it field for field.
 */

export interface HardwareViewBody {
  rids: unknown;
  vms: unknown;
  [field: string]: unknown;
}

export function hardwareMessage({ rids, vms, ...rest }: HardwareViewBody): Record<string, unknown> {
  return { ...rest, ridsJson: JSON.stringify(rids), vmsJson: JSON.stringify(vms) };
}

export function eventMessage({ data, ...rest }: EventEnvelope): Record<string, unknown> {
  return { ...rest, dataJson: JSON.stringify(data) };
}

export function eventPageMessage(page: EventPage): Record<string, unknown> {
  return { events: page.events.map(eventMessage), nextPageToken: page.nextPageToken };
}
