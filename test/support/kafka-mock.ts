import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A Kafka-protocol cluster for tests and benchmarks: librdkafka's mock cluster, served by
 * a `kcat` child process (no broker or Docker can run here). Produce, fetch and consumer
 * groups work; admin createTopics and the idempotent producer do not, topics are created
 * on first use (4 partitions), and a fetch returns one produce batch per partition.
 */
/** Partitions of a topic the mock creates on first use (librdkafka's mock default). */
export const MOCK_TOPIC_PARTITIONS = 4;

export interface KafkaMock {
  brokers: string[];
  /** The kcat process id. */
  pid: number;
  /** Freezes every broker of the cluster (SIGSTOP): connections stay open but nothing answers. */
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

/**
 * kcat runs under a small shell that prints its pid and kills it as soon as its stdin, a pipe
 * from this process, closes: so kcat dies with this process however it ends (even SIGKILL,
 * where no exit handler runs). The shell exits when kcat does, with its status.
 */
const WATCHDOG = 'exec 3<&0; "$0" "$@" & pid=$!; echo "$pid"; { cat <&3 >/dev/null; kill -9 "$pid" 2>/dev/null; } & wait "$pid"';

const running = new Set<number>();
let exitHookInstalled = false;

/** Kills every mock still running when the process exits normally, without waiting for the watchdogs. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of running) killQuietly(pid, 'SIGKILL');
  });
}

export async function startKafkaMock(options: KafkaMockOptions = {}): Promise<KafkaMock> {
  const kcat = options.kcatPath ?? process.env.KCAT_PATH ?? 'kcat';
  const brokerCount = options.brokerCount ?? 3;
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  installExitHook();
  // kcat consumes a throwaway topic only to keep the mock cluster inside it alive; -q keeps
  // its stdout quiet and the notice that names the bootstrap servers still goes to stderr.
  const args = ['-b', 'mock:1', '-X', `test.mock.num.brokers=${brokerCount}`, '-C', '-t', 'kcat-keepalive', '-q'];
  const shell = spawn('sh', ['-c', WATCHDOG, kcat, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });

  let started: { pid: number; brokers: string[] };
  try {
    started = await startup(shell, kcat, timeoutMs);
  } catch (e) {
    shell.stdin!.end();
    shell.kill('SIGKILL');
    throw e;
  }
  const { pid, brokers } = started;
  running.add(pid);
  shell.once('exit', () => running.delete(pid));
  return {
    brokers,
    pid,
    pause: () => process.kill(pid, 'SIGSTOP'),
    resume: () => process.kill(pid, 'SIGCONT'),
    stop: () => stop(shell, pid),
  };
}

/** kcat's pid (first stdout line) and the bootstrap servers (stderr), or a clear error. */
function startup(shell: ChildProcess, kcat: string, timeoutMs: number): Promise<{ pid: number; brokers: string[] }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let pid: number | undefined;
    let brokers: string[] | undefined;
    const done = (fn: () => void) => {
      clearTimeout(timer);
      shell.off('error', onError);
      shell.off('exit', onExit);
      fn();
    };
    const settleIfReady = () => {
      if (pid !== undefined && brokers !== undefined) {
        const started = { pid, brokers };
        done(() => resolve(started));
      }
    };
    const onError = (e: Error) => done(() => reject(new Error(`cannot start the Kafka mock cluster (${e.message})`)));
    const onExit = (code: number | null, signal: string | null) =>
      done(() =>
        reject(new Error(`"${kcat}" exited (code ${code}, signal ${signal}) before reporting its mock cluster; is kcat installed (apt-get install kcat)? ${stderr.trim()}`)),
      );
    const timer = setTimeout(
      () => done(() => reject(new Error(`"${kcat}" did not report its mock cluster within ${timeoutMs} ms: ${stderr.trim()}`))),
      timeoutMs,
    );
    shell.once('error', onError);
    shell.once('exit', onExit);
    shell.stdout!.setEncoding('utf8');
    shell.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const line = /^(\d+)\n/.exec(stdout);
      if (pid === undefined && line) {
        pid = Number(line[1]);
        settleIfReady();
      }
    });
    // stderr is read for as long as kcat lives: a full pipe would block its logging and stall the brokers.
    shell.stderr!.setEncoding('utf8');
    shell.stderr!.on('data', (chunk: string) => {
      if (brokers !== undefined) return;
      stderr = (stderr + chunk).slice(-8_000);
      const match = BOOTSTRAP.exec(stderr);
      if (match) {
        brokers = match[1].split(',');
        settleIfReady();
      }
    });
  });
}

function stop(shell: ChildProcess, pid: number): Promise<void> {
  if (shell.exitCode !== null || shell.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    shell.once('exit', () => resolve());
    // A paused process cannot act on SIGTERM; SIGKILL ends it whatever its state. Closing
    // stdin ends the watchdog too.
    killQuietly(pid, 'SIGKILL');
    shell.stdin!.end();
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
