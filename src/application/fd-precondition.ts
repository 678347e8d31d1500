import { Injectable } from '@nestjs/common';
import { commandScope, type HostCommand } from '../model/commands';
import { DomainError } from '../model/errors';
import { FdVersions } from '../store/fd-versions';

/**
 * Conditional writes (If-Match, gRPC `expectedVersion`): an fd-scoped command runs only if the
 * fd's version (the host version of its last change) is still the one the caller saw. Checked
 * under the host lock on every attempt of the write path, as of the version of the state the
 * decider decides on; the append expects that version, so the check and the decision commit
 * together or not at all: an fd change committed meanwhile makes that attempt lose, and the
 * next one, on the newer state, is refused.
 */
@Injectable()
export class FdPreconditions {
  constructor(private readonly versions: FdVersions) {}

  async check(hostId: string, command: HostCommand, expectedVersion: number | undefined, atVersion: number): Promise<void> {
    if (expectedVersion === undefined) return;
    // Only a command on an existing fd has a version to guard; one that creates or names no fd has none.
    const scope = commandScope(command);
    if (scope.kind !== 'fd') return;
    const { fdId } = scope;
    const version = await this.versions.lastChange(hostId, fdId, atVersion);
    if (version !== expectedVersion) {
      throw new DomainError('PRECONDITION_FAILED', `fd ${fdId} is at version ${version}, not ${expectedVersion}: it changed since it was read`, {
        fdId,
        expectedVersion,
        version,
      });
    }
  }
}
