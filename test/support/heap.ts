import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TestHost, SIOV } from './domain-host';
import type { DeviceSpec, HostEvent } from '../../src/model';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapBytes(): number {
  gc();
  gc();
  // Typed arrays' data lives outside the JS heap: counted too, as bench:domain counts it.
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** The heap one of `make`'s results holds: heap with `count` of them alive minus heap before, per copy (bench:domain's method). */
export function heapBytesEach(count: number, make: (i: number) => unknown): number {
  make(-1); // warm: code and feedback made on the first run are not a copy's
  const before = heapBytes();
  const alive = Array.from({ length: count }, (_, i) => make(i));
  const after = heapBytes();
  assert(alive.length === count);
  return (after - before) / count;
}

function assert(ok: boolean): void {
  if (!ok) throw new Error('unreachable');
}

/** A small host as bench:fleet's: one SIOV device, one global-mode fd, `pasids` ioasids each attached with its global PASID, every other one with its page table bound. */
export function smallHostEvents(pasids: number): HostEvent[] {
  const h = new TestHost().register({ enqcmd: true, devices: [SIOV] });
  h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't-1', vmId: 'vm-1' });
  h.run({ type: 'SetHwidMode', fdId: 'fd-1', mode: 'global' });
  h.run({ type: 'SetGlobalMin', fdId: 'fd-1', globalMin: 1024 });
  for (let ioasid = 1; ioasid <= pasids; ioasid++) {
    h.run({ type: 'AllocIoasid', fdId: 'fd-1' });
    h.run({ type: 'AttachDevice', fdId: 'fd-1', ioasid, rid: SIOV.rid, enqcmd: false });
    h.run({ type: 'SetHwid', fdId: 'fd-1', ioasid, pasid: ioasid });
    if (ioasid % 2 === 0) h.run({ type: 'BindPgtable', fdId: 'fd-1', ioasid, gpa: `0x${(ioasid * 0x1000).toString(16)}` });
  }
  return h.log;
}

/**
 * A host of many PASIDs as bench:domain's 1M-PASID host, smaller: `fds` global-mode fds of
 * `perFd` ioasids, each holding a global PASID (its vf attached for the hwid, then detached).
 */
export function bigHostEvents(fds: number, perFd: number): HostEvent[] {
  const vfs = Array.from({ length: fds }, (_, f): DeviceSpec => ({ rid: `0000:${(0x10 + f).toString(16).padStart(2, '0')}:00.0`, kind: 'vf', pasidBits: 20 }));
  const h = new TestHost().register({ enqcmd: true, devices: vfs });
  vfs.forEach(({ rid }, f) => {
    const fdId = `fd-${f}`;
    h.run({ type: 'CreateFd', fdId, tenantId: `t-${f}`, vmId: `vm-${f}` });
    h.run({ type: 'SetHwidMode', fdId, mode: 'global' });
    h.run({ type: 'SetGlobalMin', fdId, globalMin: 1024 });
    for (let ioasid = 1; ioasid <= perFd; ioasid++) {
      h.run({ type: 'AllocIoasid', fdId });
      h.run({ type: 'AttachDevice', fdId, ioasid, rid, enqcmd: false });
      h.run({ type: 'SetHwid', fdId, ioasid, pasid: ioasid });
      h.run({ type: 'DetachDevice', fdId, ioasid, rid });
    }
  });
  return h.log;
}
