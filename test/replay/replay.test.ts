// Replays every saved history of every set (recorded by record.test.ts, oldest set first) with the current
// workflow code: a change that running workflows would not survive fails here, whichever version of the code
// started them. Guard the change with patched() (docs/deploys.md); never re-record a set to make this pass.
// No Temporal server is involved. guard.test.ts checks that the sets cover the code; patches.test.ts that
// every patch guards something.
import path from 'node:path';
import type { ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { quietRuntime, replayAll } from './replay-all';
import { SCENARIOS, loadSets } from './saved-histories';

quietRuntime();

const sets = loadSets();
const histories = sets.flatMap((s) => s.histories);
const newest = sets.at(-1);
const replays = histories.map((h) => ({ key: h.file, workflowId: h.workflowId, history: h.history }));

describe('replay of the saved histories', () => {
  let errors: Map<string, ReplayResult['error']>;

  beforeAll(async () => {
    errors = await replayAll({ workflowBundle: { codePath: inject('workflowBundlePath') } }, replays);
  });

  it('has sets, the newest with every scenario the recorder records, continue-as-new runs included', () => {
    expect(sets.length).toBeGreaterThan(0);
    const scenarios = new Set(newest?.histories.map((h) => h.scenario));
    expect(scenarios).toEqual(new Set(SCENARIOS));
    for (const s of sets) {
      expect(
        s.histories.some((h) => h.scenario.startsWith('account-sync') && h.run > 1),
        s.tag,
      ).toBe(true);
      expect(
        s.histories.some((h) => h.scenario.startsWith('bulk-') && h.run > 1),
        s.tag,
      ).toBe(true);
    }
  });

  it.each(histories.map((h) => [h.tag, h.file]))('set %s: %s replays with the current code', (_tag, file) => {
    expect(errors.get(file)).toBeUndefined();
  });
});

describe('a nondeterministic change', () => {
  it('fails replay of every account history of every set with DeterminismViolationError, and only those', async () => {
    const errors = await replayAll(
      { workflowsPath: path.resolve(__dirname, 'nondeterministic/index.ts') },
      replays,
    );
    for (const h of histories) {
      const error = errors.get(h.file);
      if (h.scenario.startsWith('account-sync')) {
        expect(error, h.file).toBeInstanceOf(DeterminismViolationError);
        expect(error?.message).toMatch(/nondeterminism/i);
      } else {
        expect(error, h.file).toBeUndefined();
      }
    }
  });
});
