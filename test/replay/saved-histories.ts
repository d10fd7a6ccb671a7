// The saved histories, in sets: one set per recording, kept side by side (a new set never replaces an older
// one: a workflow started under older code may still be running, so its histories keep being replayed).
//
//   <scenario>.<tag>.run-<n>.json   one run of a scenario's continue-as-new chain (n from 1)
//   <tag>.set.json                  the set's manifest: when, with which workflow code, and its files' hashes
//
// A tag is the UTC date of the recording, `YYYY-MM-DD`, with `-2`, `-3`… for a second set of the same day. The
// first set (FIRST_SET_TAG) predates tags: its files are `<scenario>.run-<n>.json`.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import { historyFromJson } from './history-json';
import type { WorkflowCodeFingerprint } from './workflow-code';

export const HISTORIES_DIR = path.resolve(__dirname, 'histories');

/** The set recorded before sets had tags (the date of its recording). */
export const FIRST_SET_TAG = '2026-11-27';

/** What the recorder records today, one scenario a chain of runs. */
export const SCENARIOS = [
  'account-sync-lifecycle',
  'account-sync-invalid-token',
  'account-sync-import',
  'bulk-import',
  'account-sync-walks',
  'bulk-reconcile-held',
  'bulk-import-stopped',
  'webhook-delivery',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

const TAG = /^(\d{4}-\d{2}-\d{2})(?:-(\d+))?$/;
const FILE = /^(?<scenario>[a-z0-9-]+)(?:\.(?<tag>\d{4}-\d{2}-\d{2}(?:-\d+)?))?\.run-(?<run>\d+)\.json$/;
const MANIFEST = /^(?<tag>\d{4}-\d{2}-\d{2}(?:-\d+)?)\.set\.json$/;

export const historyFileName = (scenario: Scenario, tag: string, run: number): string =>
  `${scenario}.${tag}.run-${run}.json`;
export const manifestFileName = (tag: string): string => `${tag}.set.json`;

/** Scenario, set tag and run of a history file name; undefined for any other file. */
export function parseHistoryFileName(
  file: string,
): { scenario: string; tag: string; run: number } | undefined {
  const m = FILE.exec(file);
  if (!m?.groups) return undefined;
  const { scenario = '', tag = FIRST_SET_TAG, run = '0' } = m.groups;
  return { scenario, tag, run: Number(run) };
}

/** Oldest first: by date, then by the same-day number. */
export function compareTags(a: string, b: string): number {
  const [, da = '', na = '1'] = TAG.exec(a) ?? [];
  const [, db = '', nb = '1'] = TAG.exec(b) ?? [];
  return da === db ? Number(na) - Number(nb) : da < db ? -1 : 1;
}

/** The first tag from `date` on that no set has yet (date: the UTC date, YYYY-MM-DD). */
export function nextFreeTag(date: string, taken: readonly string[]): string {
  for (let n = 1; ; n += 1) {
    const tag = n === 1 ? date : `${date}-${n}`;
    if (!taken.includes(tag)) return tag;
  }
}

export interface SetManifest {
  tag: string;
  recordedAt: string;
  /** What the workflow code was when the set was recorded; null for the first set (not known). */
  workflowCode: WorkflowCodeFingerprint | null;
  /** Every history of the set and the sha256 of its file: a set is never edited once recorded. */
  files: Record<string, string>;
  note?: string;
}

export interface SavedHistory {
  file: string;
  scenario: string;
  tag: string;
  run: number;
  workflowId: string;
  history: History;
}

export interface HistorySet {
  tag: string;
  manifest: SetManifest;
  histories: SavedHistory[];
}

export const fileSha256 = (file: string): string =>
  createHash('sha256')
    .update(readFileSync(path.join(HISTORIES_DIR, file)))
    .digest('hex');

export function loadHistory(file: string): SavedHistory {
  const name = parseHistoryFileName(file);
  if (!name) throw new Error(`${file} is not named <scenario>[.<tag>].run-<n>.json`);
  const history = historyFromJson(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  return { file, ...name, workflowId: workflowIdOf(history), history };
}

export function historyFiles(): string[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => parseHistoryFileName(f))
    .sort();
}

export function manifestTags(): string[] {
  return readdirSync(HISTORIES_DIR)
    .flatMap((f) => MANIFEST.exec(f)?.groups?.['tag'] ?? [])
    .sort(compareTags);
}

export function loadManifest(tag: string): SetManifest {
  return JSON.parse(readFileSync(path.join(HISTORIES_DIR, manifestFileName(tag)), 'utf8')) as SetManifest;
}

/** Every set with a manifest, oldest first, each with the histories its file names give it. */
export function loadSets(): HistorySet[] {
  const files = historyFiles();
  return manifestTags().map((tag) => ({
    tag,
    manifest: loadManifest(tag),
    histories: files.filter((f) => parseHistoryFileName(f)?.tag === tag).map(loadHistory),
  }));
}

/** Every saved history of every set, oldest set first. */
export function loadHistories(): SavedHistory[] {
  return loadSets().flatMap((s) => s.histories);
}

/** The workflow id of the recorded run (replay then sees the same `workflowInfo().workflowId`). */
export function workflowIdOf(history: History): string {
  const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId;
  if (!workflowId)
    throw new Error('history does not begin with a WorkflowExecutionStarted event with a workflow id');
  return workflowId;
}

/** The marker names sdk-core records: a patch (`patched()`/`deprecatePatch()`) and a local activity. */
export const PATCH_MARKER = 'core_patch';
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface HistoryFacts {
  /** Patch ids of the history's patch markers, and whether the marker says deprecated. */
  patches: Map<string, { deprecated: boolean }>;
  /** Activity types of its ActivityTaskScheduled events. */
  activities: Set<string>;
  /** Activity types of its local activity markers. */
  localActivities: Set<string>;
}

/** The JSON objects in a marker's detail payloads (sdk-core writes `patch-data` and `data` as JSON). */
function markerDetails(details: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }>) {
  return Object.values(details).flatMap((p) =>
    (p.payloads ?? []).flatMap((payload) => {
      try {
        const v: unknown = JSON.parse(Buffer.from(payload.data ?? []).toString('utf8'));
        return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    }),
  );
}

export function historyFacts(history: History): HistoryFacts {
  const facts: HistoryFacts = { patches: new Map(), activities: new Set(), localActivities: new Set() };
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) facts.activities.add(scheduled);
    const marker = e.markerRecordedEventAttributes;
    if (!marker?.details) continue;
    for (const d of markerDetails(marker.details)) {
      if (marker.markerName === PATCH_MARKER && typeof d['id'] === 'string')
        facts.patches.set(d['id'], { deprecated: d['deprecated'] === true });
      if (marker.markerName === LOCAL_ACTIVITY_MARKER && typeof d['activity_type'] === 'string')
        facts.localActivities.add(d['activity_type']);
    }
  }
  return facts;
}
