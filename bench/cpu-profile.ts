import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

// Summarises V8 .cpuprofile files (node --cpu-prof) by self time: which code the worker's CPU went to.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Sampled wall time of the thread, ms (idle included). */
  durationMs: number;
  idleMs: number;
  /** Self time by area: our code by folder, dependencies by package, V8 internals (GC, compiler). */
  byArea: { area: string; ms: number }[];
  topFunctions: { fn: string; ms: number }[];
}

function areaOf(url: string, fn: string): string {
  if (fn === '(idle)') return '(idle)';
  if (fn === '(garbage collector)') return '(garbage collector)';
  if (fn === '(program)') return '(program: native, compiler, bridge)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  const ours = /\/(src|bench)\/(.+)$/.exec(url);
  if (ours?.[1] && ours[2]) return `${ours[1]}/${ours[2].split('/')[0] ?? ''}`;
  if (url.startsWith('node:') || url === '') return 'node internals';
  return path.basename(url);
}

/**
 * Wall-clock window to keep: the profile's clock is mapped to the wall clock through the moment the process
 * exited (the profile ends there), which is accurate to a few ms and keeps start-up (bundling) out.
 */
export interface ProfileWindow {
  fromWallMs: number;
  toWallMs: number;
  exitWallMs: number;
}

export function summariseProfile(file: string, top = 12, window?: ProfileWindow): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = prof.startTime;
  let first = Infinity;
  let last = -Infinity;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (window) {
      const wall = window.exitWallMs - (prof.endTime - t) / 1000;
      if (wall < window.fromWallMs || wall > window.toWallMs) return;
    }
    first = Math.min(first, t - dt);
    last = Math.max(last, t);
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    if (area === '(idle)') {
      idle += us;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key =
      `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ k, ms: v / 1000 }));
  return {
    file,
    durationMs: last > first ? (last - first) / 1000 : 0,
    idleMs: idle / 1000,
    byArea: sorted(areas)
      .slice(0, top)
      .map(({ k, ms }) => ({ area: k, ms })),
    topFunctions: sorted(fns)
      .slice(0, top)
      .map(({ k, ms }) => ({ fn: k, ms })),
  };
}

/** Every profile in a directory (node writes one per thread), busiest first. */
export function summariseProfiles(dir: string, top = 12, window?: ProfileWindow): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summariseProfile(path.join(dir, f), top, window))
    .sort((a, b) => b.durationMs - b.idleMs - (a.durationMs - a.idleMs));
}
