import { createHash } from 'node:crypto';
import type { FaultKind as SandboxFaultKind } from '../sandbox';
import { POISON_VALUES } from '../sandbox/faults';
import { Rng } from '../sandbox/random';

// The fault schedule is a pure function of (seed, faults, accounts): the same seed always injects the same
// faults in the same order with the same parameters. Only how the system reacts to them depends on timing.

export const FAULT_KINDS = [
  'worker-kill',
  'temporal-restart',
  'pg-terminate',
  'rate-limit',
  'rate-limit-retry-after',
  'server-error-html',
  'hang',
  'truncated',
  'malformed',
  'slow',
  'empty-page',
  'short-page',
  'duplicate-rows',
  'poison',
  'invoices-added',
  'invoices-paid',
  'invoices-cancelled',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Relative frequency once every kind has appeared once; process faults are the expensive ones. */
const WEIGHTS: Record<FaultKind, number> = {
  'worker-kill': 10,
  'temporal-restart': 5,
  'pg-terminate': 9,
  'rate-limit': 8,
  'rate-limit-retry-after': 8,
  'server-error-html': 9,
  hang: 3,
  truncated: 8,
  malformed: 8,
  slow: 6,
  'empty-page': 6,
  'short-page': 5,
  'duplicate-rows': 5,
  poison: 6,
  'invoices-added': 9,
  'invoices-paid': 8,
  'invoices-cancelled': 6,
};

/** The campaign's sandbox-level kinds and the sandbox fault each one adds. */
export const SANDBOX_KIND: Partial<Record<FaultKind, SandboxFaultKind>> = {
  'rate-limit': 'rate-limit',
  'rate-limit-retry-after': 'rate-limit',
  'server-error-html': 'server-error-html',
  hang: 'hang',
  truncated: 'truncated',
  malformed: 'malformed',
  slow: 'slow',
  'empty-page': 'empty-page',
  'short-page': 'short-page',
  'duplicate-rows': 'duplicate-rows',
  poison: 'poison',
};

/** Which sevDesk requests a sandbox fault hits: invoice pages most, the contact load too. */
const PATHS = [
  ['/Invoice', 6],
  ['/Contact', 2],
  ['/CommunicationWay', 1],
  ['/ContactAddress', 1],
  ['*', 2],
] as const;

/**
 * Fields whose corruption the schema can see. A corrupted field that still looks valid (an invoice number
 * "abc") is indistinguishable from a real change in sevDesk, so no sync could be expected to undo it.
 */
const MALFORMED_FIELDS: Record<string, readonly string[]> = {
  '/Invoice': ['sumGross', 'status', 'id', 'update'],
  '/Contact': ['id', 'update'],
  '/CommunicationWay': ['id', 'main'],
};

const POISON_FIELDS = Object.keys(POISON_VALUES);

export interface FaultEvent {
  seq: number;
  kind: FaultKind;
  /** Index of the account (sandbox) it targets; process and database faults hit every account. */
  account: number;
  /** Pause before it is injected. */
  gapMs: number;
  /** Sandbox faults: how many matching requests it hits. Mutations: how many invoices. */
  times: number;
  path?: string;
  retryAfterSeconds?: number;
  delayMs?: number;
  /** malformed: the field to corrupt. */
  field?: string;
  /** temporal-restart: how long the server stays down. */
  downtimeMs?: number;
}

export interface PlanOptions {
  seed: number;
  faults: number;
  accounts: number;
  /** Range of the pause between two faults. */
  gapMs?: readonly [number, number];
}

const PLAN_STREAM = 9001;

/** Every kind at least once (when there is room), the rest by weight, in a seeded order. */
export function planFaults(opts: PlanOptions): FaultEvent[] {
  const rng = new Rng(opts.seed, PLAN_STREAM, 0);
  const [gapMin, gapMax] = opts.gapMs ?? [300, 2000];
  const kinds: FaultKind[] = opts.faults >= FAULT_KINDS.length ? [...FAULT_KINDS] : [];
  const weighted = FAULT_KINDS.map((k) => [k, WEIGHTS[k]] as const);
  while (kinds.length < opts.faults) kinds.push(rng.weighted(weighted));
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.map((kind, seq) => {
    const e: FaultEvent = {
      seq,
      kind,
      account: rng.int(opts.accounts),
      gapMs: rng.range(gapMin, gapMax),
      times: 1,
    };
    // Storms are counted in requests, and every failed activity attempt (3 requests) doubles the next
    // retry delay: 15 requests already mean ~15 s of backoff, 40 would mean minutes of one account standing
    // still, which would drown every other fault's effect.
    switch (kind) {
      case 'rate-limit':
        return { ...e, times: rng.range(3, 15), path: rng.weighted(PATHS) };
      case 'rate-limit-retry-after':
        // 12 s is above the client's 10 s ceiling: the wait is handed to a Temporal activity retry.
        return {
          ...e,
          times: rng.range(2, 10),
          path: rng.weighted(PATHS),
          retryAfterSeconds: rng.pick([1, 1, 2, 3, 5, 12]),
        };
      case 'server-error-html':
        return { ...e, times: rng.range(1, 8), path: rng.weighted(PATHS) };
      case 'hang':
        return { ...e, times: 1, path: rng.pick(['/Invoice', '/Invoice', '/Contact', '*']) };
      case 'truncated':
        return { ...e, times: rng.range(1, 4), path: rng.weighted(PATHS) };
      case 'malformed': {
        const path = rng.pick(['/Invoice', '/Invoice', '/Invoice', '/Contact', '/CommunicationWay']);
        return { ...e, times: rng.range(1, 3), path, field: rng.pick(MALFORMED_FIELDS[path]!) };
      }
      // Pages that lie about their length: the invoice list (and the reconcile's GET by id) of a walk.
      case 'empty-page':
      case 'short-page':
      case 'duplicate-rows':
        return { ...e, times: rng.range(1, 3), path: '/Invoice' };
      // A record the schema accepts and the database may not: cleaned or reported, never a stuck page.
      case 'poison':
        return { ...e, times: rng.range(1, 3), path: '/Invoice', field: rng.pick(POISON_FIELDS) };
      case 'slow':
        return { ...e, times: rng.range(1, 8), path: rng.weighted(PATHS), delayMs: rng.range(300, 4000) };
      case 'invoices-added':
        return { ...e, times: rng.range(1, 25) };
      case 'invoices-paid':
        return { ...e, times: rng.range(1, 15) };
      case 'invoices-cancelled':
        return { ...e, times: rng.range(1, 6) };
      case 'temporal-restart':
        return { ...e, downtimeMs: rng.range(300, 4000) };
      default:
        return e;
    }
  });
}

/** A short fingerprint of a schedule: equal seeds and options give equal fingerprints. */
export function planFingerprint(plan: readonly FaultEvent[]): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16);
}
