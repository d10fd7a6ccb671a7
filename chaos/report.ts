import type { CampaignReport, RecoveryStats } from './campaign';

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const seconds = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

const recovery = (what: string, s: RecoveryStats): string[] => [
  what,
  String(s.samples.length),
  seconds(s.p50),
  seconds(s.p95),
  seconds(s.max),
];

/** The campaign's result as Markdown tables: faults by kind, invariants, recovery times. */
export function formatReport(r: CampaignReport): string {
  const faults = table(
    ['fault', 'injected', 'effect'],
    [
      ...r.tallies.map((t) => [t.kind, String(t.injected), `${t.effect} ${t.unit}`]),
      ['total', `${r.faultsInjected} of ${r.faultsPlanned}`, ''],
    ],
  );
  // One row per invariant: passed accounts out of all, with the first failure's detail.
  const names = [...new Set(r.invariants.map((i) => i.name))];
  const invariants = table(
    ['invariant', 'result', 'detail'],
    names.map((name) => {
      const all = r.invariants.filter((i) => i.name === name);
      const failed = all.filter((i) => !i.pass);
      const scope =
        all.length === 1 && all[0]?.account === '*' ? '' : ` ${all.length - failed.length}/${all.length}`;
      const detail = failed.length
        ? failed.map((f) => `${f.account}: ${f.detail}`).join(' | ')
        : all.length === 1
          ? (all[0]?.detail ?? '')
          : '';
      return [name, `${failed.length ? 'FAIL' : 'pass'}${scope}`, detail.slice(0, 400)];
    }),
  );
  const rc = r.recovery;
  const times = table(
    ['recovery: kill to next progress', 'n', 'p50', 'p95', 'max'],
    [
      recovery('worker SIGKILL + restart', rc.workerKill),
      recovery('Temporal server SIGKILL + restart', rc.temporalRestart),
    ],
  );
  const d = r.durationsMs;
  return [
    `seed ${r.seed}, schedule ${r.planFingerprint}: ${r.accounts} accounts x ${r.invoicesPerAccount} invoices, ` +
      `${r.importsStarted} more imports and ${r.reconcilesStarted} reconciles started, worker started ${r.workerStarts} times`,
    `sevDesk knobs: ${r.knobs.map((k) => `${k.account} order ${k.listOrder}${k.hideWithoutShowAll ? ', SR hidden without showAll' : ''}`).join('; ')}`,
    '',
    faults,
    '',
    invariants,
    '',
    times,
    '',
    `time: setup ${seconds(d.setup)}, faults ${seconds(d.faults)}, settle ${seconds(d.settle)}, ` +
      `re-run ${seconds(d.rerun)}, total ${seconds(d.total)}`,
    r.kept
      ? `kept: logs in ${r.kept.dir}, database ${r.kept.database} (psql -c 'drop database ${r.kept.database}')`
      : '',
    r.passed ? 'RESULT: every invariant held' : 'RESULT: FAILED',
  ]
    .filter((l, i, all) => l !== '' || all[i - 1] !== '')
    .join('\n');
}
