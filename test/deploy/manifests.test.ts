import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { SHUTDOWN_DEADLINE_MS } from '../../src/observability/shutdown';
import {
  envNamesReadByConfig,
  exists,
  findObject,
  K8S_DIR,
  loadManifests,
  objectsOfKind,
  readRepoFile,
  type K8sObject,
} from '../support/deploy-files';
import { parse } from 'yaml';

const files = loadManifests();
const configMap = findObject(files, 'ConfigMap', 'ioasid-manager');
const secret = findObject(files, 'Secret', 'ioasid-manager');
const api = findObject(files, 'Deployment', 'ioasid-manager-api');
const projector = findObject(files, 'Deployment', 'ioasid-manager-projector');
const workloads: K8sObject[] = [api, projector];
const defaults = loadConfig({});

/** Every container of the pod, init containers first. */
function containers(workload: K8sObject): K8sObject[] {
  return [...(workload.spec.template.spec.initContainers ?? []), ...workload.spec.template.spec.containers];
}
/** The pod's server container. */
function server(workload: K8sObject): K8sObject {
  return workload.spec.template.spec.containers[0];
}
function podSpec(workload: K8sObject): K8sObject {
  return workload.spec.template.spec;
}
function envValue(container: K8sObject, name: string): string | undefined {
  return container.env?.find((e: { name: string }) => e.name === name)?.value;
}
/** Every environment name a container ends up with: its env list and every ConfigMap/Secret it imports whole. */
function envNames(container: K8sObject): string[] {
  const own = (container.env ?? []).map((e: { name: string }) => e.name);
  const imported = (container.envFrom ?? []).flatMap((from: K8sObject) => {
    if (from.configMapRef) return Object.keys(findObject(files, 'ConfigMap', from.configMapRef.name).data ?? {});
    return Object.keys(findObject(files, 'Secret', from.secretRef.name).stringData ?? {});
  });
  return [...own, ...imported];
}
function containerPort(container: K8sObject, name: string): number {
  const port = container.ports?.find((p: { name: string }) => p.name === name);
  assert.ok(port, `container ${container.name} has no port named ${name}`);
  return port.containerPort;
}

describe('deploy/k8s manifests', () => {
  it('parse, and kustomization lists exactly the manifest files', () => {
    const kustomization = parse(readRepoFile('deploy', 'k8s', 'kustomization.yaml'));
    const manifests = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), manifests.sort());
    for (const { file, objects } of files) {
      for (const o of objects) {
        assert.ok(o.apiVersion && o.kind, `${file}: every document has apiVersion and kind`);
        assert.equal(o.metadata?.namespace, undefined, `${file}: ${o.kind} must not pin a namespace`);
      }
    }
  });

  it('set only environment variables that src/config.ts reads (and Node\'s NODE_OPTIONS)', () => {
    const known = new Set([...envNamesReadByConfig(), 'NODE_OPTIONS']);
    const set = workloads.flatMap((w) => containers(w).flatMap(envNames));
    assert.ok(set.length > 0);
    for (const name of set) assert.ok(known.has(name), `${name} is set by a manifest but not read by src/config.ts`);
    for (const name of [...Object.keys(configMap.data), ...Object.keys(secret.stringData)]) {
      assert.ok(known.has(name), `${name} (ConfigMap/Secret) is not read by src/config.ts`);
    }
  });

  it('give V8 a heap limit that holds the host cache and fits each server container\'s memory limit', () => {
    const heapMB = Number(/--max-old-space-size=(\d+)/.exec(configMap.data.NODE_OPTIONS ?? '')?.[1]);
    const cacheMB = Number(configMap.data.HOST_CACHE_MB ?? defaults.hostCacheMb);
    // API.md "Configuration": HOST_CACHE_MB plus about 192 MB for everything else the process holds.
    assert.ok(heapMB >= cacheMB + 192, `--max-old-space-size=${heapMB} leaves too little beside HOST_CACHE_MB=${cacheMB}`);
    for (const w of workloads) {
      const limit = server(w).resources.limits.memory as string;
      assert.match(limit, /^\d+Mi$/);
      assert.ok(heapMB < parseInt(limit, 10), `${w.metadata.name}: a ${heapMB} MB heap does not fit its ${limit} limit`);
    }
  });

  it('give config values the code accepts', () => {
    for (const w of workloads) {
      for (const c of containers(w)) {
        const env: Record<string, string> = { ...configMap.data, ...secret.stringData };
        for (const e of c.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
        assert.doesNotThrow(() => loadConfig(env), `${w.metadata.name}: loadConfig rejects its environment`);
      }
    }
  });

  it('keep ports equal to the code defaults, the ConfigMap and the Service', () => {
    assert.equal(Number(configMap.data.PORT), defaults.port);
    assert.equal(Number(configMap.data.GRPC_PORT), defaults.grpcPort);
    const apiContainer = server(api);
    assert.equal(containerPort(apiContainer, 'http'), defaults.port);
    assert.equal(containerPort(apiContainer, 'grpc'), defaults.grpcPort);
    assert.equal(containerPort(server(projector), 'http'), defaults.port);

    const service = findObject(files, 'Service', 'ioasid-manager-api');
    assert.deepEqual(service.spec.selector, api.spec.template.metadata.labels);
    const byName = Object.fromEntries(service.spec.ports.map((p: K8sObject) => [p.name, p]));
    assert.equal(byName.http.port, defaults.port);
    assert.equal(byName.grpc.port, defaults.grpcPort);
    for (const p of service.spec.ports) containerPort(apiContainer, p.targetPort);
  });

  it('give each Deployment its role and select their own pods', () => {
    assert.equal(envValue(server(api), 'ROLE'), 'api');
    assert.equal(envValue(server(projector), 'ROLE'), 'projector');
    for (const d of [api, projector]) {
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) assert.equal(d.spec.template.metadata.labels[k], v);
    }
  });

  it('run the migration command in an init container of every Deployment, before a server that never migrates', () => {
    const migrateScript = JSON.parse(readRepoFile('package.json')).scripts.migrate;
    assert.equal(migrateScript, 'node dist/src/migrate.js', 'npm run migrate is the command the pods run');
    for (const d of [api, projector]) {
      const inits: K8sObject[] = podSpec(d).initContainers ?? [];
      assert.equal(inits.length, 1, `${d.metadata.name}: one init container`);
      const [migrate] = inits;
      assert.equal(migrate.command.join(' '), migrateScript, `${d.metadata.name}: the init container migrates`);
      assert.equal(migrate.image, server(d).image, `${d.metadata.name}: migrations of the release the server runs`);
      const dbRef = migrate.env.find((e: K8sObject) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
      assert.deepEqual(dbRef, { name: secret.metadata.name, key: 'DATABASE_URL' });
      assert.equal(envValue(server(d), 'RUN_MIGRATIONS'), 'false', `${d.metadata.name}: the server does not migrate`);
    }
    // A Job's spec is immutable: re-applying the manifests of a release must not fail on one.
    assert.deepEqual(objectsOfKind(files, 'Job'), []);
  });

  it('refer only to ConfigMap and Secret keys that exist', () => {
    for (const w of workloads) {
      for (const c of containers(w)) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
          if (!ref) continue;
          const source = e.valueFrom.secretKeyRef ? findObject(files, 'Secret', ref.name).stringData : findObject(files, 'ConfigMap', ref.name).data;
          assert.ok(ref.key in source, `${w.metadata.name}: ${ref.name} has no key ${ref.key}`);
        }
      }
    }
  });

  it('probe /healthz for liveness and /readyz for readiness on the http port', () => {
    for (const d of [api, projector]) {
      const c = server(d);
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.startupProbe.httpGet.path, '/healthz');
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        assert.equal(containerPort(c, probe.httpGet.port), defaults.port);
      }
    }
  });

  it('run commands whose files the build produces', () => {
    for (const w of workloads) {
      for (const c of containers(w)) {
        assert.equal(c.command[0], 'node');
        assert.ok(exists(c.command[1]), `${w.metadata.name} runs ${c.command[1]}, which the build does not produce`);
      }
    }
  });

  it('run as non-root on a read-only root filesystem with a writable /tmp', () => {
    for (const w of workloads) {
      const spec = podSpec(w);
      assert.equal(spec.securityContext.runAsNonRoot, true);
      assert.notEqual(spec.securityContext.runAsUser, 0);
      for (const c of containers(w)) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        const tmp = c.volumeMounts.find((m: K8sObject) => m.mountPath === '/tmp');
        assert.ok(tmp, `${w.metadata.name}: /tmp is not mounted`);
        assert.ok(spec.volumes.find((v: K8sObject) => v.name === tmp.name)?.emptyDir, `${w.metadata.name}: /tmp is not an emptyDir`);
        assert.ok(c.resources?.requests?.cpu && c.resources?.limits?.memory, `${w.metadata.name}: resources`);
      }
    }
  });

  it('give the API time for preStop and the drain deadline before the kill', () => {
    const spec = podSpec(api);
    const preStop: string[] = spec.containers[0].lifecycle.preStop.exec.command;
    const sleepMs = Number(/setTimeout\([^,]*,\s*(\d+)\)/.exec(preStop.join(' '))?.[1]);
    assert.ok(sleepMs > 0, 'preStop waits before SIGTERM');
    assert.ok(
      spec.terminationGracePeriodSeconds * 1000 > sleepMs + SHUTDOWN_DEADLINE_MS,
      'terminationGracePeriodSeconds covers preStop and the shutdown deadline',
    );
    assert.ok(podSpec(projector).terminationGracePeriodSeconds * 1000 > SHUTDOWN_DEADLINE_MS);
  });

  it('autoscale the API Deployment on CPU with autoscaling/v2', () => {
    const [hpa] = objectsOfKind(files, 'HorizontalPodAutoscaler');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: api.metadata.name });
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas >= hpa.spec.minReplicas);
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  });

  it('let voluntary disruptions take at most one API pod and one projector at a time', () => {
    for (const d of [api, projector]) {
      const pdb = findObject(files, 'PodDisruptionBudget', d.metadata.name);
      assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
      assert.equal(pdb.spec.maxUnavailable, 1);
    }
  });

  it("fit every pod's connections into PostgreSQL's default max_connections at the HPA maximum, with headroom", () => {
    const [hpa] = objectsOfKind(files, 'HorizontalPodAutoscaler');
    const pool = (d: K8sObject) => loadConfig({ DATABASE_POOL_SIZE: envValue(server(d), 'DATABASE_POOL_SIZE') }).databasePoolSize!;
    const connections = hpa.spec.maxReplicas * pool(api) + projector.spec.replicas * pool(projector);
    // deploy/README.md "Connections": 100 by default, 3 reserved for superusers, 10 for migrations, the CLI and operators.
    assert.ok(connections <= 100 - 3 - 10, `${connections} connections at ${hpa.spec.maxReplicas} API pods`);
  });
});

describe('docker-compose.yml', () => {
  it('sets on services running this image only the environment src/config.ts reads', () => {
    if (!exists('docker-compose.yml')) return;
    const compose = parse(readRepoFile('docker-compose.yml'));
    const known = envNamesReadByConfig();
    const ours = Object.entries<K8sObject>(compose.services ?? {}).filter(([, s]) => {
      const dockerfile = typeof s.build === 'object' ? s.build.dockerfile : undefined;
      return dockerfile?.endsWith('deploy/Dockerfile') || String(s.image ?? '').startsWith('ioasid-manager');
    });
    for (const [name, service] of ours) {
      const env = Array.isArray(service.environment)
        ? service.environment.map((e: string) => e.split('=')[0])
        : Object.keys(service.environment ?? {});
      for (const key of env) assert.ok(known.has(key), `compose service ${name} sets ${key}, which src/config.ts does not read`);
    }
  });
});
