import { request } from 'undici';

// The worker's /metrics (SEVSYNC_WORKER_HTTP_PORT), read before and after a window: counters by label set.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, the sample lines only (no # HELP / # TYPE). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

export async function scrapeMetrics(port: number): Promise<Sample[]> {
  const res = await request(`http://127.0.0.1:${port}/metrics`, { headersTimeout: 30_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`worker /metrics answered ${res.statusCode}`);
  return parseMetrics(text);
}

/** Sum of a counter over the label sets that `keep` accepts; null when the worker has no such metric. */
export function total(
  samples: Sample[],
  name: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): number | null {
  const mine = samples.filter((s) => s.name === name);
  if (mine.length === 0) return null;
  return mine.filter((s) => keep(s.labels)).reduce((a, s) => a + s.value, 0);
}

/** Growth of a counter between two scrapes (null when it is missing from either). */
export function growth(
  before: Sample[],
  after: Sample[],
  name: string,
  keep?: (labels: Record<string, string>) => boolean,
): number | null {
  const a = total(before, name, keep);
  const b = total(after, name, keep);
  // A counter first incremented in the window is absent before it: it started from 0.
  if (b === null) return null;
  return b - (a ?? 0);
}
