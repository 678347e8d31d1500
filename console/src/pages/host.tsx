import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { RidMap, reservedRanges } from '../components/pasid-map';
import { Loading, Problem } from '../components/problem';
import { TimeTravel } from '../components/time-travel';
import { Timeline } from '../components/timeline';
import { Verify } from '../components/verify';
import { VmTables } from '../components/vm-tables';
import { diffHardware } from '../diff';
import { FD_FACT_TYPES, fdFactsAt, fdIdOf, loadFdFactEvents } from '../history';
import { hostState } from '../host-state';
import { followHost } from '../live';
import { useLoad } from '../load';
import { navigate } from '../route';
import type { EventEnvelope, HardwareView, HostView } from '../types';

const FACT_TYPES: ReadonlySet<string> = new Set(FD_FACT_TYPES);

/** The hardware view once the projection has applied `version` (it follows the commit shortly after). */
async function hardwareFrom(hostId: string, version: number): Promise<HardwareView> {
  for (let attempt = 0; ; attempt++) {
    const hw = await api.hardware(hostId);
    if (hw.version >= version || attempt >= 40) return hw;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Base {
  host: HostView;
  facts: EventEnvelope[];
}

/** A host: its PASID map at a version (now by default, following new events), history and verification. */
export function HostPage({ hostId, version }: { hostId: string; version?: number }) {
  const base = useLoad<Base>(async () => {
    const [host, facts] = await Promise.all([api.host(hostId), loadFdFactEvents(hostId)]);
    return { host, facts };
  }, [hostId]);
  const [now, setNow] = useState<HardwareView>();
  const [facts, setFacts] = useState<EventEnvelope[]>([]);
  const [arrived, setArrived] = useState<EventEnvelope[]>([]);
  const [head, setHead] = useState(0);
  const [problem, setProblem] = useState<unknown>();

  useEffect(() => {
    if (!base.data) return;
    setFacts(base.data.facts);
    let stop: (() => void) | undefined;
    let closed = false;
    const advance = (hw: HardwareView) => setNow((old) => (old && old.version >= hw.version ? old : hw));
    void api.hardware(hostId).then(
      (hw) => {
        if (closed) return;
        advance(hw);
        setHead((h) => Math.max(h, hw.version));
        stop = followHost(
          hostId,
          hw.version,
          (events) => {
            const last = events[events.length - 1].version;
            setHead((h) => Math.max(h, last));
            setArrived(events);
            const newFacts = events.filter((e) => FACT_TYPES.has(e.type));
            if (newFacts.length) setFacts((old) => [...old, ...newFacts]);
            hardwareFrom(hostId, last).then((hw) => !closed && advance(hw), setProblem);
          },
          setProblem,
        );
      },
      (e) => !closed && setProblem(e),
    );
    return () => {
      closed = true;
      stop?.();
    };
  }, [base.data]);

  const past = useLoad(async () => (version === undefined ? undefined : api.hardware(hostId, version)), [hostId, version]);
  const shown = version === undefined ? now : past.data;
  const diff = useMemo(() => (version !== undefined && shown && now ? diffHardware(shown, now) : undefined), [version, shown, now]);
  const fds = useMemo(() => fdFactsAt(facts, shown?.version ?? 0), [facts, shown?.version]);
  const fdIds = useMemo(() => [...new Set(facts.map((e) => fdIdOf(e)!))], [facts]);

  const error = base.error ?? problem ?? past.error;
  const setVersion = (v: number | undefined) => navigate(`/hosts/${encodeURIComponent(hostId)}${v === undefined ? '' : `?version=${v}`}`);

  return (
    <main id="content" tabIndex={-1} data-host-id={hostId} data-version={shown?.version} data-at={version === undefined ? 'now' : 'past'}>
      <h1>
        Host <code>{hostId}</code>
      </h1>
      {error !== undefined && <Problem error={error} />}
      {error === undefined && (!base.data || !shown) && <Loading what="the host" />}
      {base.data && shown && (
        <>
          <Capabilities host={base.data.host} />
          <div class="bar">
            <TimeTravel hostId={hostId} head={head} version={version} onVersion={setVersion} />
            <Verify hostId={hostId} />
          </div>
          <section aria-labelledby="map-h">
            <h2 id="map-h">
              PASID map at version {shown.version}
              {version !== undefined && <span class="badge past">past</span>}
            </h2>
            <Legend diff={diff !== undefined} />
            {ridsOf(base.data.host, shown).map(([rid, kind, bits]) => (
              <RidMap
                key={rid}
                rid={rid}
                kind={kind}
                bits={bits}
                view={shown.rids[rid] ?? { context: { table: 'host' }, pasids: {} }}
                fds={fds}
                reserved={reservedRanges(shown.allocator.reserved)}
                diff={diff}
              />
            ))}
          </section>
          <section aria-labelledby="vms-h">
            <h2 id="vms-h">CPU PASID translation (KVM)</h2>
            <VmTables vms={shown.vms} diff={diff} />
          </section>
          <section aria-labelledby="alloc-h">
            <h2 id="alloc-h">Allocator and hash</h2>
            <dl class="facts" data-allocator-used={shown.allocator.used} data-allocator-free={shown.allocator.free}>
              <dt>Used</dt>
              <dd>{shown.allocator.used}</dd>
              <dt>Free</dt>
              <dd>{shown.allocator.free}</dd>
              <dt>Reserved</dt>
              <dd data-allocator-reserved>{shown.allocator.reserved.reduce((n, r) => n + r.count, 0)}</dd>
              <dt>Hash</dt>
              <dd>
                <code class="hash" data-hash={shown.hash}>
                  {shown.hash}
                </code>
              </dd>
            </dl>
          </section>
          <Timeline scope={{ hostId }} fdIds={fdIds} arrived={arrived} selected={version} onSelect={(e) => setVersion(e.version)} />
        </>
      )}
    </main>
  );
}

/** The host's RIDs in device order, with any the view holds beyond them. */
function ridsOf(host: HostView, hw: HardwareView): Array<[string, string, number]> {
  const known = host.devices.map((d) => [d.rid, d.kind, d.pasidBits] as [string, string, number]);
  const extra = Object.keys(hw.rids)
    .filter((rid) => !host.devices.some((d) => d.rid === rid))
    .map((rid) => [rid, 'device', host.pasidBits] as [string, string, number]);
  return [...known, ...extra];
}

function Capabilities({ host }: { host: HostView }) {
  return (
    <dl class="facts caps">
      <dt>PASID bits</dt>
      <dd>{host.pasidBits}</dd>
      <dt>ENQCMD</dt>
      <dd>{host.enqcmd ? 'yes' : 'no'}</dd>
      <dt>Nested PASID table</dt>
      <dd>{host.nestedPasidTable ? 'yes' : 'no'}</dd>
      <dt>Devices</dt>
      <dd>{host.devices.length}</dd>
      <dt>State</dt>
      <dd>{hostState(host)}</dd>
    </dl>
  );
}

function Legend({ diff }: { diff: boolean }) {
  return (
    <p class="legend small">
      <span class="swatch local" aria-hidden="true" /> local <span class="swatch global" aria-hidden="true" /> global{' '}
      <span class="swatch real" aria-hidden="true" /> real <span class="swatch reserved" aria-hidden="true" /> reserved{' '}
      <span class="swatch split" aria-hidden="true" /> an fd's local/global split
      {diff && (
        <>
          {' '}
          · rows: <span class="diff-changed">changed since</span> <span class="diff-removed">gone by now</span> <span class="diff-added">added since</span>
        </>
      )}
    </p>
  );
}
