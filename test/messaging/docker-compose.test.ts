import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';

/** The repository root, from dist/test/messaging. */
const COMPOSE_FILE = join(__dirname, '..', '..', '..', 'docker-compose.yml');

/** What the person running `docker compose up` has set: the one variable the file requires. */
const SHELL: Record<string, string> = { OPERATOR_TOKEN: 'a-long-random-operator-secret' };

/** Compose's `${NAME:-default}` and `${NAME:?error}` substitutions over `shell`. */
function interpolate(value: unknown, shell: Record<string, string> = SHELL): string {
  return String(value).replace(/\$\{(\w+):([-?])([^}]*)\}/g, (_m, name: string, op: string, arg: string) => {
    if (shell[name]) return shell[name];
    if (op === '-') return arg;
    throw new Error(`compose refuses: ${name}: ${arg}`);
  });
}

type Service = Record<string, any>;

/** Docker cannot run here: the file is checked as compose would read it, and its app env as the app would. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'));
  const services: Record<string, Service> = compose.services;
  const env = (name: string): Record<string, string> =>
    Object.fromEntries(Object.entries<unknown>(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
  const healthcheck = (name: string): string => [services[name].healthcheck?.test ?? []].flat().join(' ');

  it('runs PostgreSQL 16, a KRaft Kafka, the API and the projector, each with a health check', () => {
    assert.deepEqual(Object.keys(services).sort(), ['api', 'kafka', 'kafka-init', 'migrate', 'postgres', 'projector']);
    assert.match(services.postgres.image, /^postgres:16/);
    assert.match(healthcheck('postgres'), /pg_isready/);
    assert.equal(services.kafka.image, 'apache/kafka:3.9.0');
    assert.match(env('kafka').KAFKA_PROCESS_ROLES, /broker/);
    assert.match(env('kafka').KAFKA_PROCESS_ROLES, /controller/);
    assert.ok(!Object.keys(env('kafka')).some((k) => k.includes('ZOOKEEPER')), 'KRaft: no ZooKeeper');
    assert.match(healthcheck('kafka'), /kafka-broker-api-versions/);
    for (const app of ['api', 'projector']) assert.match(healthcheck(app), /\/readyz/);
  });

  it('builds the API and the projector from deploy/Dockerfile with the roles of API.md', () => {
    for (const [name, role] of [['api', 'api'], ['projector', 'projector'], ['migrate', undefined]] as const) {
      assert.deepEqual(services[name].build, { context: '.', dockerfile: 'deploy/Dockerfile' }, name);
      assert.equal(env(name).ROLE, role, name);
    }
  });

  it('gives the API and the projector an environment the app accepts, pointing at the services of this file', () => {
    const pg = env('postgres');
    const kafka = env('kafka');
    const advertised = kafka.KAFKA_ADVERTISED_LISTENERS.split(',').map((l) => l.replace(/^\w+:\/\//, ''));
    const topicCreated = services['kafka-init'].command.map(interpolate);
    for (const name of ['api', 'projector']) {
      const vars = env(name);
      for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', 'KAFKA_TOPIC', 'OPERATOR_TOKEN', 'PORT', 'GRPC_PORT']) assert.ok(vars[key], `${name} sets ${key}`);
      const config = loadConfig(vars);
      assert.equal(config.role, name);
      assert.equal(config.runMigrations, false, `${name}: the migrate service owns the schema`);
      const db = new URL(config.databaseUrl!);
      assert.deepEqual([db.hostname, db.username, db.password, db.pathname], ['postgres', pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`], name);
      for (const broker of config.kafkaBrokers!) assert.ok(advertised.includes(broker), `${name}: ${broker} is a listener Kafka advertises`);
      assert.equal(topicCreated[topicCreated.indexOf('--topic') + 1], config.kafkaTopic, `${name}: kafka-init creates the topic it uses`);
      assert.match(healthcheck(name), new RegExp(`port:${config.port}\\b`), `${name}: the health check asks the port it serves`);
    }
    assert.equal(env('api').OPERATOR_TOKEN, env('projector').OPERATOR_TOKEN);
    assert.equal(env('api').OPERATOR_TOKEN, SHELL.OPERATOR_TOKEN);
    const published = services.api.ports.map((p: string) => Number(p.split(':').pop()));
    const api = loadConfig(env('api'));
    assert.ok(published.includes(api.port) && published.includes(api.grpcPort), 'REST and gRPC ports are published');
  });

  it('refuses to start without OPERATOR_TOKEN instead of falling back to a published default', () => {
    for (const name of ['api', 'projector']) {
      assert.throws(() => interpolate(services[name].environment.OPERATOR_TOKEN, {}), /compose refuses: OPERATOR_TOKEN: .+/, name);
    }
  });

  it('starts each service after what it needs: healthy servers, completed one-shot jobs', () => {
    const oneShots = new Set(['kafka-init', 'migrate']);
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries<{ condition: string }>(service.depends_on ?? {})) {
        assert.ok(services[dependency], `${name} depends on a service that exists: ${dependency}`);
        if (oneShots.has(dependency)) assert.equal(condition, 'service_completed_successfully', `${name} -> ${dependency}`);
        else {
          assert.equal(condition, 'service_healthy', `${name} -> ${dependency}`);
          assert.ok(services[dependency].healthcheck, `${dependency} has the health check ${name} waits for`);
        }
      }
    }
    for (const app of ['api', 'projector']) {
      assert.deepEqual(Object.keys(services[app].depends_on).sort(), ['kafka-init', 'migrate'], app);
    }
    assert.deepEqual(Object.keys(services.migrate.depends_on), ['postgres']);
    assert.deepEqual(Object.keys(services['kafka-init'].depends_on), ['kafka']);
  });
});
