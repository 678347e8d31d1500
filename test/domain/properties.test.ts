import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DomainError, type DeviceSpec, type HostCommand, type HostEvent, type Quotas } from '../../src/model';
import { decide, evolve, evolveAll, exportFd } from '../../src/domain';
import { HostHardware, parseVmViewKey, replayHardware } from '../../src/hardware';
import { countersOf } from '../support/hardware-internals';
import { deserializeHostState, initialHostState, serializeHostState, type HostState } from '../../src/composition/host-state';

const HOSTS = ['host-a', 'host-b'] as const;
const FDS = ['fd-0', 'fd-1', 'fd-2', 'fd-3', 'fd-4'];
const VMS = ['vm-0', 'vm-1', 'vm-2'];
const TENANTS = ['t1', 't2'];
const QUOTAS: Quotas = { maxFds: 2, maxHostPasids: 5 };
const CTX = { quotasFor: () => QUOTAS };
const GPAS = ['0x1000', '0x7f0000', '0x2000', '0x1001', 'zz'];

function devicesOf(hostId: string, bits: number): DeviceSpec[] {
  const p = hostId === 'host-a' ? 'aa' : 'bb';
  return [
    { rid: `0000:${p}:00.1`, kind: 'vf', pasidBits: bits },
    { rid: `0000:${p}:00.2`, kind: 'vf', pasidBits: Math.max(1, bits - 2) },
    { rid: `0000:${p}:01.0`, kind: 'siov', pasidBits: bits },
    { rid: `0000:${p}:01.1`, kind: 'siov', pasidBits: Math.max(1, bits - 1) },
  ];
}

interface HostConfig {
  pasidBits: number;
  enqcmd: boolean;
  nestedPasidTable: boolean;
  reserved: [number, number];
}

function reservedOf(config: HostConfig): Array<{ from: number; count: number }> {
  const [low, high] = config.reserved;
  return [...(low > 0 ? [{ from: 1, count: low }] : []), ...(high > 0 ? [{ from: 2 ** (config.pasidBits - 1), count: high }] : [])];
}

/** A step of a random run: a command on one host, or a whole migration between the two. */
type Step =
  | { kind: 'command'; host: 0 | 1; command: HostCommand; pick: number }
  /** The other tenant opens an fd for the vmId of an open fd: two tenants' VMs sharing a vmId on one host. */
  | { kind: 'twin'; host: 0 | 1; pick: number; fdId: string }
  | { kind: 'migrate'; from: 0 | 1; fd: string; newFd: string; outcome: 'complete' | 'abort'; map: 'fitting' | 'by-index' | 'shared' }
  /** A burst of the usual sequence on one fd (mode, split, alloc, attach, hwid, bind, map), so runs reach deep states. */
  | { kind: 'build'; host: 0 | 1; pick: number; mode: 'local' | 'global'; devices: number[]; enqcmd: boolean[]; pasid: number; gpa: string; steps: number };

function stepArbitrary(): fc.Arbitrary<Step> {
  const fdId = fc.constantFrom(...FDS);
  // Mostly the operator; now and then a tenant (maybe the wrong one).
  const actor = fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...TENANTS) });
  const ioasid = fc.integer({ min: 1, max: 4 });
  const pasid = fc.integer({ min: 0, max: 40 });
  // Device by index on the step's host (resolved in Sim.resolve); 8 is a RID no host has.
  const rid = fc.integer({ min: 0, max: 8 }).map(String);
  const scoped = (extra: fc.Arbitrary<Record<string, unknown>>) =>
    fc.record({ fdId, actorTenantId: actor }).chain((base) => extra.map((e) => ({ ...base, ...e })));
  const command: fc.Arbitrary<HostCommand> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ fdId, tenantId: fc.constantFrom(...TENANTS), vmId: fc.constantFrom(...VMS), actorTenantId: actor }).map((c) => ({ type: 'CreateFd' as const, ...c })) },
    { weight: 1, arbitrary: scoped(fc.constant({})).map((c) => ({ type: 'CloseFd', ...c }) as HostCommand) },
    { weight: 3, arbitrary: scoped(fc.record({ mode: fc.constantFrom('local', 'global') })).map((c) => ({ type: 'SetHwidMode', ...c }) as HostCommand) },
    { weight: 1, arbitrary: scoped(fc.record({ globalMin: fc.integer({ min: 0, max: 40 }) })).map((c) => ({ type: 'SetGlobalMin', ...c }) as HostCommand) },
    { weight: 4, arbitrary: scoped(fc.constant({})).map((c) => ({ type: 'AllocIoasid', ...c }) as HostCommand) },
    { weight: 1, arbitrary: scoped(fc.record({ ioasid })).map((c) => ({ type: 'FreeIoasid', ...c }) as HostCommand) },
    {
      weight: 4,
      // Mostly no vdevId (the host assigns one); now and then a given one, maybe taken or malformed.
      arbitrary: scoped(fc.record({ ioasid, rid, enqcmd: fc.boolean(), vdevId: fc.option(fc.constantFrom('nic', 'dsa', 'vdev-1', 'vdev-2', '-bad'), { nil: undefined, freq: 3 }) })).map(
        (c) => ({ type: 'AttachDevice', ...c }) as HostCommand,
      ),
    },
    { weight: 2, arbitrary: scoped(fc.record({ ioasid, rid, mdevId: fc.option(fc.constantFrom('mdev-1', 'mdev-2', 'mdev-3', 'mdev-4'), { nil: undefined }) })).map((c) => ({ type: 'DetachDevice', ...c }) as HostCommand) },
    { weight: 1, arbitrary: scoped(fc.record({ ioasid, gpa: fc.constantFrom(...GPAS) })).map((c) => ({ type: 'SetPasidTable', ...c }) as HostCommand) },
    { weight: 4, arbitrary: scoped(fc.record({ ioasid, pasid })).map((c) => ({ type: 'SetHwid', ...c }) as HostCommand) },
    { weight: 2, arbitrary: scoped(fc.record({ ioasid })).map((c) => ({ type: 'GetHwid', ...c }) as HostCommand) },
    { weight: 3, arbitrary: scoped(fc.record({ ioasid, gpa: fc.constantFrom(...GPAS) })).map((c) => ({ type: 'BindPgtable', ...c }) as HostCommand) },
    { weight: 1, arbitrary: scoped(fc.record({ ioasid })).map((c) => ({ type: 'UnbindPgtable', ...c }) as HostCommand) },
    { weight: 2, arbitrary: scoped(fc.record({ guestPasid: pasid, hostPasid: pasid })).map((c) => ({ type: 'SetKvmPasidMapping', ...c }) as HostCommand) },
    { weight: 1, arbitrary: scoped(fc.record({ guestPasid: pasid })).map((c) => ({ type: 'UnsetKvmPasidMapping', ...c }) as HostCommand) },
    { weight: 1, arbitrary: scoped(fc.record({ migrationId: fc.constantFrom('m-1', 'm-2'), targetHostId: fc.constantFrom(...HOSTS) })).map((c) => ({ type: 'StartMigration', ...c }) as HostCommand) },
    { weight: 2, arbitrary: scoped(fc.record({ migrationId: fc.constantFrom('m-1', 'm-2'), reason: fc.constant('test') })).map((c) => ({ type: 'AbortMigration', ...c }) as HostCommand) },
    // The host lifecycle (hostId set to the step's host by resolveOn): devices come and go, cordon, and now and then a decommission.
    { weight: 1, arbitrary: fc.record({ rid, kind: fc.constantFrom('vf' as const, 'siov' as const), pasidBits: fc.integer({ min: 1, max: 7 }) }).map((c) => ({ type: 'AddDevice', hostId: '', ...c }) as HostCommand) },
    { weight: 1, arbitrary: fc.record({ rid }).map((c) => ({ type: 'RemoveDevice', hostId: '', ...c }) as HostCommand) },
    // Uncordon twice as often: a host cordoned for the rest of a run would take no fd and no import, and runs would stay shallow.
    { weight: 1, arbitrary: fc.constantFrom('CordonHost' as const, 'UncordonHost' as const, 'UncordonHost' as const).map((type) => ({ type, hostId: '' }) as HostCommand) },
    { weight: 1, arbitrary: fc.constant({ type: 'DecommissionHost', hostId: '' } as HostCommand) },
  );
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ kind: fc.constant('command' as const), host: fc.constantFrom(0 as const, 1 as const), command, pick: fc.noBias(fc.integer({ min: 0, max: 999_999_999 })) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('build' as const),
        host: fc.constantFrom(0 as const, 1 as const),
        pick: fc.noBias(fc.integer({ min: 0, max: 999_999_999 })),
        mode: fc.constantFrom('local' as const, 'global' as const),
        devices: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
        enqcmd: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        pasid: fc.integer({ min: 1, max: 20 }),
        gpa: fc.constantFrom('0x1000', '0x7f0000', '0xabc000'),
        steps: fc.integer({ min: 3, max: 8 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('twin' as const), host: fc.constantFrom(0 as const, 1 as const), pick: fc.noBias(fc.integer({ min: 0, max: 999_999_999 })), fdId }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('migrate' as const), from: fc.constantFrom(0 as const, 1 as const), fd: fdId, newFd: fc.constantFrom('fd-m1', 'fd-m2', 'fd-m3'), outcome: fc.constantFrom('complete' as const, 'abort' as const), map: fc.constantFrom('fitting' as const, 'fitting' as const, 'by-index' as const, 'shared' as const) }) },
  );
}

const configArbitrary = fc.record({
  pasidBits: fc.integer({ min: 3, max: 6 }),
  enqcmd: fc.boolean(),
  nestedPasidTable: fc.boolean(),
  // The host kernel's own PASIDs: [1, 1 + n) and maybe one more range higher up.
  reserved: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
});

class Sim {
  readonly states: HostState[] = [initialHostState(), initialHostState()];
  readonly logs: HostEvent[][] = [[], []];

  constructor(configs: HostConfig[]) {
    HOSTS.forEach((hostId, i) => {
      const { reserved: _, ...config } = configs[i]!;
      this.run(i as 0 | 1, { type: 'RegisterHost', hostId, ...config, devices: devicesOf(hostId, config.pasidBits), reservedPasids: reservedOf(configs[i]!) });
      // Every run starts with one fd per host, so that the random steps have something to work on.
      this.run(i as 0 | 1, { type: 'CreateFd', fdId: FDS[i]!, tenantId: TENANTS[i]!, vmId: VMS[i]! });
    });
  }

  /** decide + evolve; refusals must be DomainErrors that change nothing. */
  run(host: 0 | 1, command: HostCommand): HostEvent[] | DomainError {
    const state = this.states[host]!;
    const { cordoned, decommissioned } = state.host ?? {};
    let events: HostEvent[];
    try {
      events = decide(command, state, CTX);
    } catch (e) {
      assert.ok(e instanceof DomainError, `decide threw a non-domain error for ${JSON.stringify(command)}: ${String(e)}`);
      if (decommissioned && command.type !== 'BarMigrationImport') assert.equal(e.code, 'HOST_DECOMMISSIONED', 'a decommissioned host refuses everything alike');
      return e;
    }
    assert.ok(!decommissioned || events.length === 0, 'a decommissioned host appends nothing');
    if (cordoned) assert.ok(!events.some((e) => e.type === 'FdCreated' || e.type === 'FdImported'), 'a cordoned host takes no new fd');
    assert.deepEqual(JSON.parse(JSON.stringify(events)), events, 'events survive JSON');
    for (const event of events) {
      evolve(state, event); // a HardwareFault here means the decider broke an invariant
      this.logs[host]!.push(event);
      checkNothingLeft(state, event);
    }
    checkInvariants(state);
    return events;
  }

  build(b: Extract<Step, { kind: 'build' }>): void {
    const state = this.states[b.host]!;
    const open = [...state.fds.values()].filter((f) => !f.migration);
    const fd = open[b.pick % Math.max(1, open.length)];
    if (!fd) return;
    const fdId = fd.fdId;
    const rids = devicesOf(HOSTS[b.host], 1).map((d) => d.rid);
    const script: HostCommand[] = [
      { type: 'SetHwidMode', fdId, mode: b.mode },
      { type: 'SetGlobalMin', fdId, globalMin: 1 + (b.pick % 8) },
      { type: 'AllocIoasid', fdId },
    ];
    const ran = script.map((c) => this.run(b.host, c));
    const allocated = ran[2];
    const ioasid = Array.isArray(allocated) && allocated[0]?.type === 'IoasidAllocated' ? allocated[0].data.ioasid : 1;
    const more: HostCommand[] = [
      ...b.devices.map((d, i) => ({ type: 'AttachDevice' as const, fdId, ioasid, rid: rids[d]!, enqcmd: b.enqcmd[i]! })),
      ...(b.pasid % 5 === 0
        ? [{ type: 'SetPasidTable' as const, fdId, ioasid, gpa: b.gpa }]
        : [{ type: 'SetHwid' as const, fdId, ioasid, pasid: b.pasid }, { type: 'BindPgtable' as const, fdId, ioasid, gpa: b.gpa }]),
      { type: 'GetHwid', fdId, ioasid },
    ];
    for (const c of more.slice(0, b.steps)) this.run(b.host, c);
    const io = state.fds.get(fdId)?.ioasids.get(ioasid);
    if (io?.globalPasid !== undefined) this.run(b.host, { type: 'SetKvmPasidMapping', fdId, guestPasid: io.pasid!, hostPasid: io.globalPasid });
  }

  resolve(host: 0 | 1, command: HostCommand, pick: number): HostCommand {
    return resolveOn(this.states[host]!, HOSTS[host], command, pick);
  }

  step(step: Step): void {
    if (step.kind === 'command') {
      this.run(step.host, this.resolve(step.host, step.command, step.pick));
      return;
    }
    if (step.kind === 'build') {
      this.build(step);
      return;
    }
    if (step.kind === 'twin') {
      const open = [...this.states[step.host]!.fds.values()];
      const fd = open[step.pick % Math.max(1, open.length)];
      const other = TENANTS.find((t) => t !== fd?.tenantId)!;
      if (fd) this.run(step.host, { type: 'CreateFd', fdId: step.fdId, tenantId: other, vmId: fd.vmId });
      return;
    }
    const to = (1 - step.from) as 0 | 1;
    const source = this.states[step.from]!;
    const fd = source.fds.get(step.fd);
    if (!fd) return;
    let image;
    try {
      image = exportFd(source, step.fd);
    } catch (e) {
      assert.ok(e instanceof DomainError && (e.code === 'NOT_MIGRATABLE' || e.code === 'NOT_FOUND'));
      return;
    }
    const started = this.run(step.from, { type: 'StartMigration', fdId: step.fd, migrationId: `mig-${step.newFd}`, targetHostId: HOSTS[to] });
    if (started instanceof DomainError) return;
    const deviceMap = deviceMapFor(step.map, source.host!.devices, this.states[to]!.host!.devices);
    const targetBefore = this.states[to]!.hw.hash();
    const imported = this.run(to, {
      type: 'ImportFd', fdId: step.newFd, tenantId: fd.tenantId, migrationId: `mig-${step.newFd}`,
      sourceHostId: HOSTS[step.from], sourceFdId: step.fd, image, deviceMap,
    });
    // A map that is not one-to-one never imports, whatever else is right or wrong.
    if (step.map === 'shared' && Object.keys(deviceMap).length > 1) assert.ok(imported instanceof DomainError, 'a shared target is refused');
    if (imported instanceof DomainError) {
      assert.equal(this.states[to]!.hw.hash(), targetBefore, 'a refused import changes nothing on the target');
    } else {
      // The guest keeps its device ids: the same vdevIds, in the same ioasids.
      const ids = (f: ReturnType<typeof exportFd>) => f.ioasids.map((io) => [io.ioasid, io.attachments.map((a) => a.vdevId)]);
      assert.deepEqual(ids(exportFd(this.states[to]!, step.newFd)), ids(image));
    }
    if (imported instanceof DomainError || step.outcome === 'abort') {
      if (!(imported instanceof DomainError)) this.run(to, { type: 'CloseFd', fdId: step.newFd });
      this.run(step.from, { type: 'AbortMigration', fdId: step.fd, migrationId: `mig-${step.newFd}`, reason: 'test' });
    } else {
      this.run(step.from, { type: 'CompleteMigration', fdId: step.fd, migrationId: `mig-${step.newFd}`, targetFdId: step.newFd });
    }
  }
}

/**
 * A device map for a migration: `fitting` sends each source device to a target device of its
 * kind at least as wide (when there is one), `by-index` to the target device at the same index
 * whatever it is, `shared` every source device to one target.
 */
function deviceMapFor(kind: 'fitting' | 'by-index' | 'shared', source: DeviceSpec[], target: DeviceSpec[]): Record<string, string> {
  // Devices come and go: a target with fewer devices (or none) gets RIDs it does not have.
  const targetRid = (i: number) => target[i]?.rid ?? '0000:ff:ff.0';
  if (kind === 'by-index') return Object.fromEntries(source.map((d, i) => [d.rid, targetRid(i)]));
  if (kind === 'shared') return Object.fromEntries(source.map((d) => [d.rid, targetRid(0)]));
  const free = [...target];
  const map: Record<string, string> = {};
  for (const d of [...source].sort((a, b) => b.pasidBits - a.pasidBits)) {
    const fits = free.filter((t) => t.kind === d.kind && t.pasidBits >= d.pasidBits).sort((a, b) => a.pasidBits - b.pasidBits)[0];
    if (!fits) continue;
    map[d.rid] = fits.rid;
    free.splice(free.indexOf(fits), 1);
  }
  return map;
}

/**
 * Points most commands at things that exist (an open fd, one of its ioasids, a device of
 * this host, an mdev or PASID it holds) so that runs get deep; a tenth stay random.
 */
function resolveOn(state: HostState, hostId: string, command: HostCommand, pick: number): HostCommand {
  const c = { ...command } as Record<string, unknown> & { type: HostCommand['type'] };
  const roll = (shift: number) => Math.floor(pick / 10 ** shift) % 10;
  if ('fdId' in c && c.type !== 'CreateFd') {
    const frozen = [...state.fds.values()].filter((f) => f.migration).map((f) => f.fdId);
    const open = c.type === 'AbortMigration' && frozen.length ? frozen : [...state.fds.keys()];
    if (open.length && roll(0) !== 0) c.fdId = open[pick % open.length];
  }
  const fd = state.fds.get(c.fdId as string);
  if ('ioasid' in c && fd) {
    const ids = [...fd.ioasids.keys()];
    if (ids.length && roll(1) !== 0) c.ioasid = ids[Math.floor(pick / 7) % ids.length];
  }
  if ('hostId' in c && c.type !== 'RegisterHost') c.hostId = hostId;
  if ('rid' in c) c.rid = Number(c.rid) < 8 ? devicesOf(hostId, 1)[Number(c.rid) % 4]!.rid : '0000:ff:00.0';
  const io = fd?.ioasids.get(c.ioasid as number);
  if (c.type === 'DetachDevice' && io && roll(2) !== 0) {
    const attachment = io.attachments[pick % Math.max(1, io.attachments.length)];
    if (attachment) {
      c.rid = attachment.rid;
      c.mdevId = roll(3) < 7 ? attachment.mdevId : undefined;
    }
  }
  if ((c.type === 'SetKvmPasidMapping' || c.type === 'UnsetKvmPasidMapping') && fd && roll(2) !== 0) {
    const withGlobal = [...fd.ioasids.values()].filter((i) => i.globalPasid !== undefined);
    const target = withGlobal[pick % Math.max(1, withGlobal.length)];
    if (target) {
      c.guestPasid = target.pasid;
      c.hostPasid = target.globalPasid;
    }
  }
  if (c.type === 'AbortMigration' && fd?.migration && roll(2) !== 0) c.migrationId = fd.migration.migrationId;
  if (c.type === 'SetGlobalMin' && state.host && roll(2) !== 0) c.globalMin = 1 + (pick % (2 ** state.host.pasidBits - 1));
  return c as HostCommand;
}

/** I9 seen from outside: after a release, nothing of the released object is in the hardware view. */
function checkNothingLeft(state: HostState, event: HostEvent): void {
  if (event.type !== 'FdClosed' && event.type !== 'FdMigratedOut' && event.type !== 'IoasidFreed' && event.type !== 'DeviceDetached') return;
  const view = state.hw.view();
  for (const [rid, r] of Object.entries(view.rids)) {
    for (const entry of Object.values(r.pasids)) {
      if (entry.fdId !== event.data.fdId) continue;
      assert.notEqual(event.type === 'FdClosed' || event.type === 'FdMigratedOut', true, `entry of closed fd left on ${rid}`);
      if (event.type === 'IoasidFreed') assert.notEqual(entry.ioasid, event.data.ioasid, 'entry of a freed ioasid left');
      if (event.type === 'DeviceDetached' && rid === event.data.rid && entry.ioasid === event.data.ioasid) {
        const fd = state.fds.get(event.data.fdId)!;
        assert.ok(fd.ioasids.get(entry.ioasid)!.attachments.some((a) => a.rid === rid), 'entry of a detached RID left');
      }
    }
  }
  if (event.type === 'FdClosed' || event.type === 'FdMigratedOut') {
    assert.ok(![...state.fds.values()].some((f) => f.fdId === event.data.fdId));
  }
}

/** I1-I8 checked from the decider state and the hardware view. */
function checkInvariants(state: HostState): void {
  const host = state.host!;
  const view = state.hw.view();
  const devices = new Map(host.devices.map((d) => [d.rid, d]));
  let held = 0;
  const vfOwners = new Map<string, string>();
  const perTenant = new Map<string, { fds: number; pasids: number }>();
  for (const fd of state.fds.values()) {
    const usage = perTenant.get(fd.tenantId) ?? { fds: 0, pasids: 0 };
    usage.fds++;
    const locals = new Set<number>();
    for (const io of fd.ioasids.values()) {
      for (const p of [io.globalPasid, io.realPasid]) {
        if (p === undefined) continue;
        held++;
        usage.pasids++;
        assert.ok(p >= 1 && p < 2 ** host.pasidBits, 'I1');
        assert.ok(!(host.reservedPasids ?? []).some((r) => p >= r.from && p < r.from + r.count), 'I1: a reserved PASID is never handed out');
      }
      if (fd.hwidMode === 'global' && io.pasid !== undefined) {
        assert.ok(io.pasid < fd.globalMin! && fd.globalMin! <= io.globalPasid!, 'I5 split');
        assert.ok(!locals.has(io.pasid), 'I5 one local, one global');
        locals.add(io.pasid);
      }
      for (const a of io.attachments) {
        const d = devices.get(a.rid)!;
        if (d.kind === 'vf') {
          const owner = vfOwners.get(a.rid);
          assert.ok(owner === undefined || owner === fd.fdId, 'I3 vf owned by one fd');
          vfOwners.set(a.rid, fd.fdId);
        }
        if (a.enqcmd) assert.ok(fd.hwidMode === 'global' && host.enqcmd, 'I7');
        if (d.kind === 'siov' && fd.hwidMode === 'local' && io.pasid !== undefined) assert.ok(io.pasid < 2 ** d.pasidBits, 'I4: a virtual siov PASID fits its device');
      }
    }
    const vdevIds = [...fd.ioasids.values()].flatMap((io) => io.attachments.map((a) => a.vdevId));
    assert.equal(new Set(vdevIds).size, vdevIds.length, 'vdevIds are unique within the fd');
    const kvm = view.vms[expectedVmKey(state, fd.tenantId, fd.vmId)] ?? {};
    assert.deepEqual(kvm, Object.fromEntries(state.hw.kvmMappingsOf(fd.fdId)), "the view shows the fd's own VM table, no other tenant's");
    for (const [guest, hostPasid] of Object.entries(kvm)) {
      const io = [...fd.ioasids.values()].find((i) => i.pasid === Number(guest));
      assert.equal(io?.globalPasid, hostPasid, 'I6');
    }
    perTenant.set(fd.tenantId, usage);
  }
  assert.equal(view.allocator.used, held, 'I1: the allocator holds exactly the PASIDs the fds hold');
  assert.deepEqual(Object.keys(view.rids).sort(), [...devices.keys()].sort(), 'the hardware has exactly the RIDs of the host\'s devices');
  if (host.decommissioned) assert.equal(state.fds.size, 0, 'a decommissioned host has no open fd');
  for (const usage of perTenant.values()) assert.ok(usage.fds <= QUOTAS.maxFds && usage.pasids <= QUOTAS.maxHostPasids, 'I8');
  for (const [rid, r] of Object.entries(view.rids)) {
    const d = devices.get(rid)!;
    if (r.context.table === 'guest') assert.deepEqual(r.pasids, {}, 'a guest-table RID carries no entries');
    for (const [pasid, entry] of Object.entries(r.pasids)) {
      assert.ok(Number(pasid) < 2 ** d.pasidBits, 'I4');
      if (entry.origin === 'local') assert.equal(d.kind, 'vf', 'I3 guest PASIDs only on vf');
      const fd = state.fds.get(entry.fdId)!;
      assert.ok(fd.ioasids.get(entry.ioasid)!.attachments.some((a) => a.rid === rid), 'entries only on attached RIDs');
    }
  }
  // A VM is (tenant, vmId): one open fd each, and every KVM table in the view names exactly one open fd's VM.
  const vms = [...state.fds.values()].map((fd) => `${fd.tenantId}|${fd.vmId}`);
  assert.equal(new Set(vms).size, vms.length, 'one open fd per VM (tenant, vmId)');
  for (const key of Object.keys(view.vms)) {
    const { vmId, tenantId } = parseVmViewKey(key);
    const owners = [...state.fds.values()].filter((fd) => fd.vmId === vmId && (tenantId === undefined || fd.tenantId === tenantId));
    assert.equal(owners.length, 1, `I9: the KVM table ${key} belongs to exactly one open fd`);
    assert.equal(key, expectedVmKey(state, owners[0]!.tenantId, vmId), 'qualified by tenant exactly when two tenants share the vmId');
  }
}

/** The view's key of a VM: its vmId, or `<tenantId>/<vmId>` when another tenant's open fd uses the same vmId on the host. */
function expectedVmKey(state: HostState, tenantId: string, vmId: string): string {
  const shared = [...state.fds.values()].some((fd) => fd.vmId === vmId && fd.tenantId !== tenantId);
  return shared ? `${tenantId}/${vmId}` : vmId;
}

describe('decider properties over random command sequences', () => {
  it('keeps I1-I9, replays to the same hash, round-trips snapshots and JSON', () => {
    fc.assert(
      fc.property(fc.tuple(configArbitrary, configArbitrary), fc.array(stepArbitrary(), { minLength: 30, maxLength: 160, size: 'max' }), fc.nat(), (configs, steps, cut) => {
        const sim = new Sim(configs);
        const split = cut % (steps.length + 1);
        const stepAndReplay = (s: Step) => {
          sim.step(s);
          // live = replay after every step, on both hosts (a migration changes both).
          sim.logs.forEach((log, i) => assert.equal(replayHardware(log).hash(), sim.states[i]!.hw.hash(), 'hardware replay = live after the step'));
        };
        steps.slice(0, split).forEach(stepAndReplay);

        // A snapshot taken half-way decides exactly like the live state from there on.
        const clones = sim.states.map((s) => deserializeHostState(JSON.parse(JSON.stringify(serializeHostState(s)))));
        clones.forEach((c, i) => {
          assert.equal(c.hw.hash(), sim.states[i]!.hw.hash());
          assert.deepEqual(JSON.parse(JSON.stringify(serializeHostState(c))), JSON.parse(JSON.stringify(serializeHostState(sim.states[i]!))));
        });
        const logStart = sim.logs.map((l) => l.length);
        steps.slice(split).forEach(stepAndReplay);
        clones.forEach((c, i) => {
          evolveAll(c, sim.logs[i]!.slice(logStart[i]));
          assert.equal(c.hw.hash(), sim.states[i]!.hw.hash(), 'snapshot + tail = live');
        });

        for (let i = 0; i < 2; i++) {
          const live = sim.states[i]!;
          // The counters the hardware keeps as it goes equal the ones recounted from a snapshot.
          assert.deepEqual(countersOf(HostHardware.fromSnapshot(JSON.parse(JSON.stringify(live.hw.toSnapshot())))), countersOf(live.hw));
          const log = JSON.parse(JSON.stringify(sim.logs[i])) as HostEvent[];
          assert.equal(replayHardware(log).hash(), live.hw.hash(), 'hardware replay = incremental');
          const replayed = evolveAll(initialHostState(), log);
          assert.deepEqual(serializeHostState(replayed), serializeHostState(live), 'decider replay = incremental');
          assert.equal(replayed.version, log.length);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('decides the same after a snapshot round trip', () => {
    fc.assert(
      fc.property(configArbitrary, fc.array(stepArbitrary(), { maxLength: 120, size: 'max' }), fc.array(stepArbitrary(), { minLength: 1, maxLength: 30 }), (config, before, after) => {
        const sim = new Sim([config, config]);
        before.forEach((s) => sim.step(s));
        const clone = deserializeHostState(JSON.parse(JSON.stringify(serializeHostState(sim.states[0]!))));
        for (const step of after) {
          if (step.kind !== 'command') continue;
          const outcome = (state: HostState) => {
            try {
              return decide(step.command, state, CTX);
            } catch (e) {
              return (e as DomainError).code;
            }
          };
          const live = outcome(sim.states[0]!);
          assert.deepEqual(outcome(clone), live);
          if (Array.isArray(live)) {
            evolveAll(sim.states[0]!, live);
            evolveAll(clone, live);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
