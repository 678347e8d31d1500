import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const metadataOf = new Map<number, PartitionMetadata[]>();

/** The partition the publisher sends a host's events to: the producer's own partitioner on key = hostId. */
export function partitionOfHost(topic: string, hostId: string, partitionCount: number): number {
  let partitionMetadata = metadataOf.get(partitionCount);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }));
    metadataOf.set(partitionCount, partitionMetadata);
  }
  return partitioner({ topic, partitionMetadata, message: { key: hostId, value: null } });
}
