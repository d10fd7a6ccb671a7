import { readFileSync, readdirSync } from 'node:fs';

// Linux /proc readings: CPU seconds and resident memory of the processes the bench compares. Clock ticks are
// 100 per second on every Linux the bench targets (getconf CLK_TCK); node has no API for the value.
const TICKS_PER_SECOND = 100;

export interface ProcReading {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
  /** Peak resident set size of the whole process life (VmHWM). */
  peakRssBytes: number;
}

export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return {
      cpuSeconds: (utime + stime) / TICKS_PER_SECOND,
      rssBytes: kb('VmRSS'),
      peakRssBytes: kb('VmHWM'),
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds of every live process with this command name (e.g. all PostgreSQL backends), by pid. */
export function cpuByName(name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // The process ended between readdir and read.
    }
  }
  return out;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busySeconds: number; totalSeconds: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busySeconds: (total - idle) / TICKS_PER_SECOND, totalSeconds: total / TICKS_PER_SECOND };
}

export interface CpuSnapshot {
  at: number;
  procs: Record<string, number>;
  /** Per pid, so that backends that appear later are counted from zero and not from their whole past. */
  postgres: Map<number, number>;
  machine: { busySeconds: number; totalSeconds: number };
}

/**
 * CPU use of the named processes between two snapshots. PostgreSQL backends that ended in between are lost
 * (their CPU is unknown): the bench keeps its pools open through every measured window.
 */
export function snapshotCpu(pids: Record<string, number | undefined>): CpuSnapshot {
  const procs: Record<string, number> = {
    bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  };
  for (const [name, pid] of Object.entries(pids)) {
    if (pid !== undefined) procs[name] = readProc(pid)?.cpuSeconds ?? 0;
  }
  return { at: Date.now(), procs, postgres: cpuByName('postgres'), machine: machineCpu() };
}

export interface CpuShare {
  wallSeconds: number;
  /** CPU seconds per process (group) over the window. */
  cpuSeconds: Record<string, number>;
  /** The same as a share of one core (1.0 = one core fully busy). */
  cores: Record<string, number>;
  machineBusyCores: number;
}

/**
 * postgresPids: the backends that count (postgresPidsOf): without it, every PostgreSQL process on the server,
 * other people's databases included, is counted as the bench's.
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, postgresPids?: ReadonlySet<number>): CpuShare {
  const wallSeconds = (b.at - a.at) / 1000;
  const cpuSeconds: Record<string, number> = {};
  for (const [name, v] of Object.entries(b.procs)) cpuSeconds[name] = v - (a.procs[name] ?? 0);
  let pg = 0;
  for (const [pid, v] of b.postgres)
    if (!postgresPids || postgresPids.has(pid)) pg += v - (a.postgres.get(pid) ?? 0);
  cpuSeconds.postgres = pg;
  const cores = Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, v / wallSeconds]));
  return {
    wallSeconds,
    cpuSeconds,
    cores,
    machineBusyCores: (b.machine.busySeconds - a.machine.busySeconds) / wallSeconds,
  };
}

/** Samples one process's RSS at a fixed period (the peak of a phase, not of the process's whole life). */
export class RssSampler {
  private readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    periodMs = 250,
  ) {
    this.take();
    this.timer = setInterval(() => this.take(), periodMs);
    this.timer.unref();
  }

  private take(): void {
    const r = readProc(this.pid);
    if (r) this.samples.push(r.rssBytes);
  }

  stop(): { maxBytes: number; avgBytes: number; samples: number } {
    clearInterval(this.timer);
    this.take();
    const n = this.samples.length;
    return {
      maxBytes: n ? Math.max(...this.samples) : 0,
      avgBytes: n ? this.samples.reduce((a, b) => a + b, 0) / n : 0,
      samples: n,
    };
  }
}
