import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A Kafka-protocol cluster for tests and benchmarks: librdkafka's mock cluster, served by
 * a `kcat` child process (no broker or Docker can run here). Produce, fetch and consumer
 * groups work; admin createTopics and the idempotent producer do not, and topics are
 * created on first use.
 */
export interface KafkaMock {
  brokers: string[];
  /** The kcat process id: tests pause it (SIGSTOP/SIGCONT) to simulate an outage. */
  pid: number;
  /** Freezes every broker of the cluster: connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface KafkaMockOptions {
  brokerCount?: number;
  /** How long to wait for kcat to report its bootstrap servers. */
  startTimeoutMs?: number;
  kcatPath?: string;
}

const BOOTSTRAP = /bootstrap\.servers and security\.protocol ignored and replaced with (\S+)/;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every mock still running when the process exits, so no kcat outlives a test run. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export async function startKafkaMock(options: KafkaMockOptions = {}): Promise<KafkaMock> {
  const kcat = options.kcatPath ?? process.env.KCAT_PATH ?? 'kcat';
  const brokerCount = options.brokerCount ?? 3;
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  installExitHook();
  // kcat consumes a throwaway topic only to keep the mock cluster inside it alive; -q keeps
  // its stdout quiet and the notice that names the bootstrap servers still goes to stderr.
  const child = spawn(kcat, ['-b', 'mock:1', '-X', `test.mock.num.brokers=${brokerCount}`, '-C', '-t', 'kcat-keepalive', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));

  let brokers: string[];
  try {
    brokers = await bootstrapServers(child, kcat, timeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const pid = child.pid!;
  return {
    brokers,
    pid,
    pause: () => process.kill(pid, 'SIGSTOP'),
    resume: () => process.kill(pid, 'SIGCONT'),
    stop: () => stopChild(child),
  };
}

function bootstrapServers(child: ChildProcess, kcat: string, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let reported = false;
    const done = (fn: () => void) => {
      clearTimeout(timer);
      child.off('error', onError);
      child.off('exit', onExit);
      fn();
    };
    const onError = (e: Error) =>
      done(() => reject(new Error(`cannot start the Kafka mock cluster with "${kcat}" (${e.message}); install kcat (apt-get install kcat)`)));
    const onExit = (code: number | null, signal: string | null) =>
      done(() => reject(new Error(`kcat exited (code ${code}, signal ${signal}) before reporting its mock cluster: ${seen.trim()}`)));
    const timer = setTimeout(
      () => done(() => reject(new Error(`kcat did not report its mock cluster within ${timeoutMs} ms: ${seen.trim()}`))),
      timeoutMs,
    );
    child.once('error', onError);
    child.once('exit', onExit);
    // stderr is read for as long as kcat lives: a full pipe would block its logging and stall the brokers.
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (reported) return;
      seen += chunk;
      const match = BOOTSTRAP.exec(seen);
      if (match) {
        reported = true;
        done(() => resolve(match[1].split(',')));
      } else if (seen.length > 64_000) {
        seen = seen.slice(-4_000);
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    // A paused process cannot act on SIGTERM; SIGKILL ends it whatever its state.
    child.kill('SIGKILL');
  });
}
