/**
 * The load generator of the service benchmark, run as a child process (service-load.ts forks
 * it) so that the HTTP clients do not share the service's event loop and CPU. It also runs the
 * raw pg and Emmett appends: every client of the comparison lives in this process.
 */
import { Agent } from 'node:http';
import { emmettAppends, rawPgAppends } from './service-appends';
import { measure, type Measurement } from './service-measure';
import { Rest } from './service-rest';
import { fdLife, SIOV_RID } from './fd-life';
import { WatchStreams } from './watch-lag';
import { benchHostId, type LoadRequest, type LoadReply } from './service-load';

/** The tenant's clients over the registered hosts; set by the 'setup' request. */
let fdLives: ((clients: number, seconds: number) => Promise<Measurement>) | undefined;
let agent: Agent | undefined;
/** The watches open in this process (between 'openWatches' and 'closeWatches'). */
let watches: WatchStreams | undefined;

/** Creates a tenant and registers `hosts` hosts through the operator API; returns the workload driver. */
async function setup(httpUrl: string, operatorToken: string, hosts: number, maxClients: number): Promise<(clients: number, seconds: number) => Promise<Measurement>> {
  agent = new Agent({ keepAlive: true, maxSockets: maxClients });
  const operator = new Rest(httpUrl, operatorToken, agent);
  const { token } = await operator.call('POST', '/v1/tenants', { name: 'bench', quotas: { maxFds: 1_000_000, maxHostPasids: 1_000_000 } });
  const tenant = new Rest(httpUrl, token, agent);
  const hostIds = Array.from({ length: hosts }, (_, i) => benchHostId(i));
  for (const hostId of hostIds) {
    await operator.call('POST', '/v1/hosts', {
      hostId,
      pasidBits: 20,
      enqcmd: true,
      nestedPasidTable: false,
      devices: [{ rid: SIOV_RID, kind: 'siov', pasidBits: 20 }],
    });
  }
  let vms = 0;
  return (clients, seconds) => {
    // Client c drives hosts c, c + clients, c + 2 * clients, ... (mod hosts): the clients spread over every host.
    const turns = new Array<number>(clients).fill(0);
    return measure(clients, seconds, (c, latencies) => fdLife(tenant, hostIds[(c + turns[c]++ * clients) % hosts], `vm-${++vms}`, latencies));
  };
}

async function serve(request: LoadRequest): Promise<Measurement | undefined> {
  switch (request.kind) {
    case 'setup':
      fdLives = await setup(request.httpUrl, request.operatorToken, request.hosts, request.maxClients);
      return undefined;
    case 'service':
      if (!fdLives) throw new Error('setup first');
      return fdLives(request.clients, request.seconds);
    case 'openWatches':
      watches = await WatchStreams.open(request.httpUrl, request.token, request.hostIds, request.count);
      return undefined;
    case 'closeWatches': {
      const lags = (await watches?.close()) ?? [];
      watches = undefined;
      return { clients: 0, ops: lags.length, seconds: 0, latencies: [], watchLags: lags };
    }
    case 'rawPg':
      return rawPgAppends(request.databaseUrl, request.clients, request.seconds);
    case 'emmett':
      return emmettAppends(request.databaseUrl, request.clients, request.seconds);
  }
}

process.on('message', (request: LoadRequest) => {
  serve(request).then(
    (measurement) => process.send!({ measurement } satisfies LoadReply),
    (e: unknown) => process.send!({ error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies LoadReply),
  );
});
// The parent going away (or closing the channel) ends the generator.
process.on('disconnect', () => {
  agent?.destroy();
  process.exit(0);
});
