// Every patch guards something, and the three steps of its life (docs/deploys.md) are replay-safe only in
// order. For each patched() id of the workflow code, the saved histories recorded with it (those with its
// marker) are replayed under variants of today's code that differ in that one patch only (patch-variants/:
// one bundle, the variant named by the replay's workflow id):
//
//   branch-off  the marker recorded as patched() records it, but the old branch taken. At least one history
//               fails with DeterminismViolationError: the branch changes the workflow's commands, so the
//               patch is needed (a workflow started before it takes the old branch when replayed). Histories
//               without the marker replay: patched() is false for them anyway.
//   unguarded   the new branch without patched(), i.e. the patch deleted from the code. Every history
//               recorded with the patch fails: sdk-core refuses a patch marker that no patched() call
//               matches, so a patch is never deleted straight away (nor a deploy rolled back past it).
//   deprecated  deprecatePatch() and the new branch, the middle step. Every history recorded with the patch
//               replays, so deprecatePatch() can go out once no run started before the patch is open.
import { DeterminismViolationError } from '@temporalio/workflow';
import type { ReplayResult, WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundlePatchVariants } from './patch-variants/bundle';
import type { VariantMode } from './patch-variants/variant-id';
import { VARIANT_MODES, variantWorkflowId } from './patch-variants/variant-id';
import type { Replay } from './replay-all';
import { quietRuntime, replayAll } from './replay-all';
import { historyFacts, loadHistories } from './saved-histories';
import { patchUses } from './workflow-code';

quietRuntime();

const histories = loadHistories();
const facts = new Map(histories.map((h) => [h.file, historyFacts(h.history)]));
// The ids behind patched() calls: a deprecatePatch() id has no branch left to switch (guard.test.ts still
// requires its marker in a saved history).
const patchIds = [...new Set(patchUses().flatMap((u) => (u.deprecated ? [] : [u.id])))].sort();
const withPatch = (id: string) => histories.filter((h) => facts.get(h.file)?.patches.has(id));
const key = (mode: VariantMode | 'none', id: string, file: string) => `${mode} ${id} ${file}`;

let bundle: WorkflowBundle;
let errors: Map<string, ReplayResult['error']>;

/** The files whose replay failed, and whether every failure was a DeterminismViolationError. */
function outcome(mode: VariantMode | 'none', id: string, files: string[]) {
  const failed = files.filter((f) => errors.get(key(mode, id, f)) !== undefined);
  const other = failed.filter((f) => !(errors.get(key(mode, id, f)) instanceof DeterminismViolationError));
  const messages = failed.map((f) => `${f}: ${errors.get(key(mode, id, f))?.message.slice(0, 400)}`);
  return { failed, other, messages };
}

describe('every patch guards a change, and is removed in steps', () => {
  beforeAll(async () => {
    bundle = await bundlePatchVariants();
    const replays: Replay[] = histories.map((h) => ({
      key: key('none', '-', h.file),
      workflowId: h.workflowId,
      history: h.history,
    }));
    for (const id of patchIds)
      for (const mode of VARIANT_MODES)
        // branch-off: every history (those without the marker must not notice); the others: those with it.
        for (const h of mode === 'branch-off' ? histories : withPatch(id))
          replays.push({
            key: key(mode, id, h.file),
            workflowId: variantWorkflowId(mode, id, h.workflowId),
            history: h.history,
          });
    errors = await replayAll({ workflowBundle: { code: bundle.code } }, replays);
  });

  it('the variant bundle replays every saved history unchanged when no variant is asked for', () => {
    const { messages } = outcome(
      'none',
      '-',
      histories.map((h) => h.file),
    );
    expect(messages).toEqual([]);
  });

  it.each(patchIds)(
    '%s, branch-off: a history recorded with the patch fails with the old branch (DeterminismViolationError)',
    (id) => {
      const recorded = withPatch(id).map((h) => h.file);
      expect(recorded.length, `no saved history has the marker of ${id}`).toBeGreaterThan(0);
      const { failed, other, messages } = outcome('branch-off', id, recorded);
      expect(failed.length, `every history recorded with ${id} replays with the old branch`).toBeGreaterThan(
        0,
      );
      expect(other, messages.join('\n')).toEqual([]);
      const untouched = histories.filter((h) => !recorded.includes(h.file)).map((h) => h.file);
      expect(outcome('branch-off', id, untouched).messages).toEqual([]);
    },
  );

  it.each(patchIds)(
    '%s, unguarded: deleting the patch fails every history recorded with it (DeterminismViolationError)',
    (id) => {
      const recorded = withPatch(id).map((h) => h.file);
      const { failed, other, messages } = outcome('unguarded', id, recorded);
      expect(failed).toEqual(recorded);
      expect(other, messages.join('\n')).toEqual([]);
    },
  );

  it.each(patchIds)('%s, deprecated: deprecatePatch() replays every history recorded with it', (id) => {
    const recorded = withPatch(id).map((h) => h.file);
    expect(outcome('deprecated', id, recorded).messages).toEqual([]);
  });
});
