import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture's ABI. */
const MICROS_PER_TICK = 10_000;

/** CPU time (user + system) used so far, in µs, per process id; processes gone meanwhile are left out. */
type CpuSample = Map<number, number>;

function sampleCpu(pids: number[]): CpuSample {
  const sample: CpuSample = new Map();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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
export function cpuMeter(pids: () => number[]): () => number {
  const start = sampleCpu(pids());
  return () => cpuBetween(start, sampleCpu(pids()));
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
