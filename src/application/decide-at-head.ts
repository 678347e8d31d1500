import type { HostState } from '../composition/host-state';
import type { HostEvent } from '../model/events';
import type { HostStates } from './host-states';

/**
 * Decides on the cached state, which may trail the store when another replica appended. An
 * acceptance decided on a stale state cannot commit (the append expects the cached version and
 * the write path reloads); a refusal would be answered as it is, so a refusal is decided again
 * on the state at the store's head, and only a refusal at the head is the answer. `decideOn`
 * may refuse asynchronously (a precondition read at the state's version). Call under the
 * host's lock.
 */
export async function decideAtHead(
  states: HostStates,
  hostId: string,
  decideOn: (state: HostState) => Promise<HostEvent[]>,
): Promise<{ state: HostState; events: HostEvent[] }> {
  let state = await states.cached(hostId);
  try {
    return { state, events: await decideOn(state) };
  } catch (refusal) {
    const versionSeen = state.version;
    state = await states.current(hostId);
    if (state.version === versionSeen) throw refusal;
    return { state, events: await decideOn(state) };
  }
}
