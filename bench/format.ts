import type { IdleInTransaction } from './pg-activity';
import type { CpuShare } from './proc-stats';

// Number and table formatting of the bench's report (bench/report.ts and the renderers next to it).

export const meanOf = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
export const n0 = (v: number | null | undefined) =>
  v === null || v === undefined ? '-' : Math.round(v).toLocaleString('en-US');
export const n1 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(1));
export const n2 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(2));
export const mb = (bytes: number | null | undefined) => (bytes ? `${Math.round(bytes / 2 ** 20)} MiB` : '-');
export const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)} %`;
export const idleCell = (x: IdleInTransaction) => `${pct(x.share)} / ${n2(x.longConnections)}`;

/** Columns padded to their widest cell; the first left-aligned, the others right-aligned. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export const cpuLine = (c: CpuShare) =>
  `${Object.entries(c.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')}; whole machine ${c.machineBusyCores.toFixed(2)} of its cores busy`;

/** Older results have no main-thread figures. */
export function delayCell(d: { p99: number | null; max: number | null } | undefined): string {
  return d ? `${n0(d.p99)} / ${n0(d.max)}` : 'n/a';
}

export function gcCell(gc: Record<string, number> | null | undefined): string {
  if (!gc) return 'n/a';
  return Object.entries(gc)
    .map(([kind, s]) => `${kind} ${s.toFixed(2)}`)
    .join(', ');
}
