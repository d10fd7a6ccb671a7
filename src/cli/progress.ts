import type { ImportProgress } from '../shared';

/** A progress bar with rate and ETA on a terminal; one plain line per change when piped. */
export function progressReporter(out: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let last = '';
  let lastDone = -1;
  return {
    update(p: ImportProgress) {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      const rate = p.done / secs;
      const total = p.total ?? 0;
      const eta = total > p.done && rate > 0 ? `${Math.ceil((total - p.done) / rate)} s` : '-';
      if (out.isTTY) {
        const width = 30;
        const frac = total > 0 ? Math.min(1, p.done / total) : 0;
        const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
        const line = `[${bar}] ${p.done}/${p.total ?? '?'} ${Math.round(rate)}/s ETA ${eta} ${p.state}`;
        if (line !== last) out.write(`\r${line}`);
        last = line;
      } else if (p.done !== lastDone) {
        out.write(`${p.state} ${p.done}/${p.total ?? '?'} invoices, ${Math.round(rate)}/s, ETA ${eta}\n`);
      }
      lastDone = p.done;
    },
    end() {
      if (out.isTTY && last) out.write('\n');
    },
  };
}
