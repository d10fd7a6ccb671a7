// Replays the saved histories (recorded by record.test.ts) with the current workflow code: a change that
// running workflows would not survive fails here. Either guard it with patched() or, if no such workflow can
// exist any more, re-record (command at the top of record.test.ts). No Temporal server is involved.
import path from 'node:path';
import type { ReplayResult } from '@temporalio/worker';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { SavedHistory } from './saved-histories';
import { SCENARIOS, loadHistories } from './saved-histories';

// The expected nondeterminism warnings and worker state changes would only clutter the output: a failing
// replay carries its details in the error the test prints.
Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

const histories = loadHistories();

async function replayAll(
  options: Parameters<typeof Worker.runReplayHistories>[0],
  saved: SavedHistory[],
): Promise<Map<string, ReplayResult['error']>> {
  const errors = new Map<string, ReplayResult['error']>();
  let i = 0;
  // One replay worker for all of them; results come back one per history, in order.
  for await (const result of Worker.runReplayHistories(options, saved)) {
    const file = saved[i++]?.file;
    if (file) errors.set(file, result.error);
  }
  expect(errors.size).toBe(saved.length);
  return errors;
}

describe('replay of the saved histories', () => {
  let errors: Map<string, ReplayResult['error']>;

  beforeAll(async () => {
    errors = await replayAll({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories);
  });

  it('has histories of every scenario, continue-as-new runs included', () => {
    expect(new Set(histories.map((h) => h.scenario))).toEqual(new Set(SCENARIOS));
    expect(histories.some((h) => h.file === 'account-sync-lifecycle.run-2.json')).toBe(true);
    expect(histories.filter((h) => h.scenario === 'bulk-import').length).toBeGreaterThan(1);
  });

  it.each(histories.map((h) => h.file))('%s replays with the current code', (file) => {
    expect(errors.get(file)).toBeUndefined();
  });
});

describe('a nondeterministic change', () => {
  it('fails replay of every account history with DeterminismViolationError, and only those', async () => {
    const errors = await replayAll(
      { workflowsPath: path.resolve(__dirname, 'nondeterministic/index.ts') },
      histories,
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
