// Which task queues a `sevsync worker` process serves (`--queues`, SEVSYNC_WORKER_QUEUES): all three by
// default; deployed as two processes, `sync,webhooks` and `imports` (docs/deploys.md, "Two worker processes").

/** The queues a worker process can serve, in the order they are created and listed. */
export const WORKER_QUEUES = ['sync', 'imports', 'webhooks'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

/** The queues named, each once, in WORKER_QUEUES' order; else why not (the value is not a secret). */
export function parseWorkerQueues(
  value: string,
): { ok: true; queues: WorkerQueue[] } | { ok: false; reason: string } {
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const allowed = `allowed: ${WORKER_QUEUES.join(', ')} (comma-separated)`;
  if (names.length === 0) return { ok: false, reason: `names no queue; ${allowed}` };
  const unknown = names.filter((n) => !(WORKER_QUEUES as readonly string[]).includes(n));
  if (unknown.length > 0)
    return {
      ok: false,
      reason: `unknown queue ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ${allowed}`,
    };
  return { ok: true, queues: normalizeWorkerQueues(names as WorkerQueue[]) };
}

/** Each queue once, in WORKER_QUEUES' order. */
export function normalizeWorkerQueues(queues: readonly WorkerQueue[]): WorkerQueue[] {
  return WORKER_QUEUES.filter((q) => queues.includes(q));
}
