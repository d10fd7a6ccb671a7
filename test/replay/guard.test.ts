// Fails when the workflow code changed without a history set recorded with the change (the fix:
// `npm run test:record-histories`, which adds a set; commit it with the change). Three checks:
//
// 1. Coverage. Every patch id of the workflow code (each `patched()`/`deprecatePatch()` call, resolved to its
//    id, plus every value of the `…PATCHES` constants) is in the patch marker of some saved history, and every
//    activity type the workflows can schedule (the names destructured from `proxyActivities()` and, as local
//    activities, `proxyLocalActivities()`) was scheduled in some saved history. So each patched branch and
//    each activity has replay protection. workflow-code.ts reads this from the sources and throws on a form
//    it cannot read (a computed patch id, a proxy not destructured) rather than miss one.
// 2. Freshness. The newest set must have been recorded with today's workflow code: its manifest holds a
//    fingerprint of the code, which must equal the current one. The fingerprint hashes the syntax tree of the
//    transpiled modules of the workflow bundle: comments, formatting and types do not count, and of modules
//    outside src/workflows (src/shared) only the declarations the workflows reach. That is deliberate: any
//    change to what the workflow code executes, even one that looks harmless (a log text, a constant), gets a
//    history recorded with it, because "harmless" is exactly what a reviewer cannot tell by reading; a
//    comment, a type or a helper of the worker does not force a recording. A new TypeScript or SDK version
//    may change the transpiled output: then record a set too (the SDK version is shown beside the hash).
// 3. Integrity. A recorded set is never edited: every history file belongs to a set whose manifest lists it
//    with its sha256. Files without a manifest are left by a recording that failed half-way.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FIRST_SET_TAG,
  fileSha256,
  historyFacts,
  historyFiles,
  loadSets,
  manifestFileName,
  manifestTags,
  parseHistoryFileName,
} from './saved-histories';
import type { WorkflowCodeFingerprint } from './workflow-code';
import {
  REPO_ROOT,
  WORKFLOWS_ENTRY,
  activityUses,
  declaredPatchIds,
  patchUses,
  workflowCodeFingerprint,
  workflowModules,
} from './workflow-code';

const RECORD = 'record a history set with `npm run test:record-histories` and commit it with the change';

const sets = loadSets();
const histories = sets.flatMap((s) => s.histories);
const facts = histories.map((h) => ({ file: h.file, ...historyFacts(h.history) }));

const uses = patchUses();
const patchIds = [...new Set([...uses.map((u) => u.id), ...declaredPatchIds()])].sort();
const activities = [...new Map(activityUses().map((a) => [`${a.name}/${a.local}`, a])).values()];

describe('the saved history sets', () => {
  it('every history file belongs to a set with a manifest', () => {
    const tags = manifestTags();
    const orphans = historyFiles().filter((f) => !tags.includes(parseHistoryFileName(f)?.tag ?? ''));
    expect(orphans, 'left by an unfinished recording: run the recorder again (it replaces them)').toEqual([]);
  });

  it.each(manifestTags())('set %s is as recorded: its manifest lists its files and their hashes', (tag) => {
    const set = sets.find((s) => s.tag === tag);
    expect(set?.manifest.tag).toBe(tag);
    const onDisk = historyFiles().filter((f) => parseHistoryFileName(f)?.tag === tag);
    expect(onDisk).toEqual(Object.keys(set?.manifest.files ?? {}).sort());
    for (const f of onDisk)
      expect(fileSha256(f), `${f} changed after it was recorded: sets are never edited, ${RECORD}`).toBe(
        set?.manifest.files[f],
      );
  });

  it('the untagged histories are the first set, recorded before any patch', () => {
    const untagged = historyFiles().filter((f) => !/\.\d{4}-\d{2}-\d{2}(-\d+)?\.run-/.test(f));
    const first = sets.find((s) => s.tag === FIRST_SET_TAG);
    // Gone once the patches it predates are deprecated (docs/deploys.md); while it is there, it is this.
    expect(untagged).toEqual(first ? Object.keys(first.manifest.files).sort() : []);
    expect(first?.histories.every((h) => historyFacts(h.history).patches.size === 0) ?? true).toBe(true);
    if (first) expect(manifestFileName(FIRST_SET_TAG)).toBe(`${FIRST_SET_TAG}.set.json`);
  });
});

describe('the workflow code has histories recorded with it', () => {
  it('reads patch ids and activities from the workflow sources', () => {
    expect(patchIds.length).toBeGreaterThan(0);
    expect(uses.every((u) => patchIds.includes(u.id))).toBe(true);
    expect(activities.some((a) => a.local)).toBe(true);
    expect(activities.some((a) => !a.local)).toBe(true);
  });

  it.each(patchIds)('patch %s is in the marker of a saved history', (id) => {
    const at = uses.filter((u) => u.id === id).map((u) => u.at);
    expect(
      facts.filter((f) => f.patches.has(id)).map((f) => f.file),
      `no saved history has a patch marker for ${id} (${at.join(', ') || 'declared'}): ${RECORD}, with a scenario that takes the branch`,
    ).not.toEqual([]);
  });

  it.each(activities.map((a) => [a.name, a.local ? 'local' : 'activity', a.at] as const))(
    '%s (%s, %s) was scheduled in a saved history',
    (name, kind) => {
      const seen = facts.filter((f) => (kind === 'local' ? f.localActivities : f.activities).has(name));
      expect(
        seen.map((f) => f.file),
        `no saved history schedules ${name} as ${kind === 'local' ? 'a local activity' : 'an activity'}: ${RECORD}, with a scenario that calls it`,
      ).not.toEqual([]);
    },
  );

  it('the newest set was recorded with the current workflow code', () => {
    const newest = sets.at(-1)!;
    const recorded = newest.manifest.workflowCode;
    const current = workflowCodeFingerprint();
    expect(recorded, `set ${newest.tag} has no code fingerprint: ${RECORD}`).not.toBeNull();
    const changed = [...new Set([...Object.keys(recorded!.modules), ...Object.keys(current.modules)])].filter(
      (m) => recorded!.modules[m] !== current.modules[m],
    );
    expect(
      current.hash,
      `the workflow code changed since set ${newest.tag} (${changed.join(', ') || `SDK ${recorded!.sdk} -> ${current.sdk}`}): ${RECORD}`,
    ).toBe(recorded!.hash);
  });
});

describe('reading the workflow sources', () => {
  // A copy of the workflow modules and what they import (src/workflows, src/shared), edited per check.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-fingerprint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  interface Files {
    list(d: string): string[];
    read(f: string): string;
    write(f: string, text: string): void;
  }
  const copy = (edit: (files: Files) => void) => {
    const root = path.join(dir, String((n += 1)));
    for (const d of ['src/workflows', 'src/shared'])
      cpSync(path.join(REPO_ROOT, d), path.join(root, d), { recursive: true });
    edit({
      list: (d) => readdirSync(path.join(root, d)).map((f) => `${d}/${f}`),
      read: (f) => readFileSync(path.join(root, f), 'utf8'),
      write: (f, text) => writeFileSync(path.join(root, f), text),
    });
    return workflowCodeFingerprint(path.join(root, 'src/workflows/index.ts'));
  };
  const real = () => workflowCodeFingerprint(WORKFLOWS_ENTRY);
  const diff = (a: WorkflowCodeFingerprint, b: WorkflowCodeFingerprint) =>
    Object.keys(a.modules).filter((m) => a.modules[m] !== b.modules[m]);

  it('does not change with comments, blank lines, types, or declarations the workflows do not reach', () => {
    const edited = copy(({ list, read, write }) => {
      for (const f of list('src/workflows'))
        write(
          f,
          `// A comment.\n\n${read(f).replace(/^export /gm, '/** Documented. */\n\nexport ')}\n/* the end */\n`,
        );
      write(
        'src/workflows/account-messages.ts',
        `${read('src/workflows/account-messages.ts')}\nexport interface OnlyAType {\n  a: number;\n}\n`,
      );
      write(
        'src/shared/index.ts',
        `${read('src/shared/index.ts')}\nexport const onlyTheWorkerUsesThis = 1;\n`,
      );
    });
    expect(edited.hash).toBe(real().hash);
  });

  it('changes with the code the workflows run, and names the module', () => {
    const workflow = copy(({ read, write }) =>
      write(
        'src/workflows/account-sync.ts',
        `${read('src/workflows/account-sync.ts')}\nexport const probe = 1;\n`,
      ),
    );
    expect(workflow.hash).not.toBe(real().hash);
    expect(diff(workflow, real())).toEqual(['src/workflows/account-sync.ts']);
    // A shared declaration the workflows use: the child workflow id of a walk.
    const shared = copy(({ read, write }) => {
      const text = read('src/shared/index.ts');
      const edited = text.replace('`sevdesk-import:', '`sevdesk-walk:');
      expect(
        edited,
        'bulkImportWorkflowId no longer starts with sevdesk-import: pick another probe',
      ).not.toBe(text);
      write('src/shared/index.ts', edited);
    });
    expect(diff(shared, real())).toEqual(['src/shared/index.ts']);
  });

  it('finds a new patch and a new activity, which no saved history has yet', () => {
    const probe = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "const { probeActivity } = proxyActivities<{ probeActivity(): Promise<void> }>({ startToCloseTimeout: '1m' });",
      'export async function probeWorkflow(): Promise<void> {',
      "  if (patched('sevsync-probe')) await probeActivity();",
      '}',
    ].join('\n');
    copy(({ read, write }) =>
      write('src/workflows/account-sync.ts', `${read('src/workflows/account-sync.ts')}\n${probe}\n`),
    );
    const files = workflowModules(path.join(dir, String(n), 'src/workflows/index.ts'));
    expect(patchUses(files).map((u) => u.id)).toContain('sevsync-probe');
    expect(activityUses(files)).toContainEqual(
      expect.objectContaining({ name: 'probeActivity', local: false }),
    );
    expect(facts.some((f) => f.patches.has('sevsync-probe') || f.activities.has('probeActivity'))).toBe(
      false,
    );
  });
});
