import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import { historyFromJson } from './history-json';

export const HISTORIES_DIR = path.resolve(__dirname, 'histories');

/** What the recorder saves: every file is `<scenario>.run-<n>.json`, n counting continue-as-new runs from 1. */
export const SCENARIOS = [
  'account-sync-lifecycle',
  'account-sync-invalid-token',
  'account-sync-import',
  'bulk-import',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const historyFileName = (scenario: Scenario, run: number): string => `${scenario}.run-${run}.json`;

export interface SavedHistory {
  file: string;
  scenario: string;
  workflowId: string;
  history: History;
}

export function loadHistory(file: string): SavedHistory {
  const history = historyFromJson(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  return { file, scenario: file.replace(/\.run-\d+\.json$/, ''), workflowId: workflowIdOf(history), history };
}

export function loadHistories(): SavedHistory[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map(loadHistory);
}

/** The workflow id of the recorded run (replay then sees the same `workflowInfo().workflowId`). */
export function workflowIdOf(history: History): string {
  const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId;
  if (!workflowId)
    throw new Error('history does not begin with a WorkflowExecutionStarted event with a workflow id');
  return workflowId;
}
