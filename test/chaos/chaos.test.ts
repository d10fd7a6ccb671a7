import { describe, expect, inject, it } from 'vitest';
import { SHORT_CAMPAIGN, runCampaign } from '../../chaos/campaign';
import { FAULT_KINDS, planFaults, planFingerprint } from '../../chaos/plan';
import { formatReport } from '../../chaos/report';

// The short version of `npm run chaos`: its own Temporal dev server (it gets killed), its own database,
// the real worker process, two sandboxes; every fault kind at least once.

const { seed: SEED, faults: FAULTS, accounts: ACCOUNTS, gapMs } = SHORT_CAMPAIGN;

describe('fault campaign', () => {
  it('plans the same faults for the same seed, and other faults for another', () => {
    const plan = (seed: number) => planFaults({ seed, faults: 100, accounts: 3 });
    expect(plan(7)).toEqual(plan(7));
    expect(planFingerprint(plan(7))).not.toBe(planFingerprint(plan(8)));
    const kinds = new Set(planFaults({ seed: SEED, faults: FAULTS, accounts: ACCOUNTS }).map((e) => e.kind));
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
  });

  it(`keeps every invariant through ${FAULTS} faults`, { timeout: 420_000 }, async () => {
    const lines: string[] = [];
    const report = await runCampaign({
      ...SHORT_CAMPAIGN,
      adminDatabaseUrl: inject('adminDatabaseUrl'),
      keep: 'never',
      log: (line) => lines.push(line),
    });
    const text = `${formatReport(report)}\n\n${lines.join('\n')}`;
    expect(report.planFingerprint, text).toBe(
      planFingerprint(planFaults({ seed: SEED, faults: FAULTS, accounts: ACCOUNTS, gapMs })),
    );
    expect(report.faultsInjected, text).toBe(FAULTS);
    expect(
      report.tallies.filter((t) => t.injected === 0).map((t) => t.kind),
      text,
    ).toEqual([]);
    expect(report.tallies.find((t) => t.kind === 'worker-kill')?.effect, text).toBeGreaterThan(0);
    expect(report.tallies.find((t) => t.kind === 'temporal-restart')?.effect, text).toBeGreaterThan(0);
    expect(report.recovery.workerKill.samples.length, text).toBeGreaterThan(0);
    expect(
      report.invariants.filter((i) => !i.pass).map((i) => `${i.name} (${i.account}): ${i.detail}`),
      text,
    ).toEqual([]);
  });
});
