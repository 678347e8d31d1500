import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture's ABI. */
const MICROS_PER_TICK = 10_000;

/** CPU time (user + system) used so far, in µs, per process id; processes gone meanwhile are left out. */
type CpuSample = Map<number, number>;

/** The stat file of a whole process, or of its main thread alone (whose thread id is the process id). */
const processStat = (pid: number) => `/proc/${pid}/stat`;
const mainThreadStat = (pid: number) => `/proc/${pid}/task/${pid}/stat`;

function sampleCpu(pids: number[], statPath: (pid: number) => string): CpuSample {
  const sample: CpuSample = new Map();
  for (const pid of pids) {
    try {
      const stat = readFileSync(statPath(pid), 'utf8');
      // After the command's closing parenthesis, utime and stime are the 12th and 13th fields.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sample.set(pid, (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return sample;
}

/** CPU used between two samples: a process that started meanwhile counts from 0; one that ended meanwhile is lost. */
function cpuBetween(before: CpuSample, after: CpuSample): number {
  let micros = 0;
  for (const [pid, used] of after) micros += used - (before.get(pid) ?? 0);
  return micros;
}

/** A meter of the CPU (µs) the processes `pids()` lists use from now on: each reading is the total since the meter began. */
export function cpuMeter(pids: () => number[], statPath = processStat): () => number {
  const start = sampleCpu(pids(), statPath);
  return () => cpuBetween(start, sampleCpu(pids(), statPath));
}

/**
 * A meter like cpuMeter of the main threads alone: a Node.js process's JavaScript and the
 * garbage collection pauses it waits out. The rest of the process's CPU is its helper threads
 * (V8's concurrent marking and parallel scavenging, libuv's pool).
 */
export function mainThreadCpuMeter(pids: () => number[]): () => number {
  return cpuMeter(pids, mainThreadStat);
}

/** This machine's PostgreSQL server processes (backends and workers); none when the database is elsewhere. */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // Gone already.
    }
  }
  return pids;
}
