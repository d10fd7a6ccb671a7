// The worker's namespace check: upserting a search attribute the namespace lacks fails the workflow task
// (BadSearchAttributes) for ever, so the worker registers what is missing where it may, before polling and
// while running; else it refuses (or tells /readyz) with the commands that fix it (namespace-problems.ts).
import type { Logger, SearchAttributeType } from '@temporalio/common';
import { redactText } from '../log';
import { accountSearchKey, stateSearchKey } from '../shared/search-attributes';
import type { RequiredAttribute } from './namespace-problems';
import {
  NamespaceSetupError,
  TYPE_NAMES,
  attributeNames,
  attributesNotVisible,
  namespaceNotFound,
  searchAttributeProblem,
} from './namespace-problems';

/** Every search attribute the workflows upsert: a namespace without one of them fails their workflow tasks. */
export const REQUIRED_SEARCH_ATTRIBUTES = [accountSearchKey, stateSearchKey] as const;

/** What the check calls on the server: a NativeConnection or a client Connection has both. */
export interface NamespaceServices {
  operatorService: {
    listSearchAttributes(req: {
      namespace: string;
    }): Promise<{ customAttributes?: Record<string, number> | null }>;
    addSearchAttributes(req: {
      namespace: string;
      searchAttributes: Record<string, number>;
    }): Promise<unknown>;
  };
  workflowService: {
    listWorkflowExecutions(req: { namespace: string; query: string; pageSize: number }): Promise<unknown>;
  };
}

/** The worker's view of its namespace, for /readyz: undefined while nothing is wrong. */
export class NamespaceStatus {
  private current: string | undefined;
  constructor(readonly namespace: string) {
    this.current = `checking the search attributes of Temporal namespace ${namespace}`;
  }
  problem(): string | undefined {
    return this.current;
  }
  set(problem: string | undefined): void {
    this.current = problem;
  }
}

/** temporal.api.enums.v1.IndexedValueType, the wire values of the operator service. */
const INDEXED_VALUE_TYPES: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

/** A listed type as the CLI names it: the wire number, or the enum's name when a caller decoded it so. */
function typeName(listed: number | string): string {
  for (const [type, value] of Object.entries(INDEXED_VALUE_TYPES) as [SearchAttributeType, number][])
    if (listed === value || listed === `INDEXED_VALUE_TYPE_${type}`) return TYPE_NAMES[type];
  return `unknown type ${String(listed)}`;
}

const GRPC_CODES: Record<number, string> = {
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

const grpcCode = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number'
    ? err.code
    : undefined;

/** `PERMISSION_DENIED: <the server's words>`, redacted: the server's message, never our request. */
function describeError(err: unknown): string {
  const code = grpcCode(err);
  const message = err instanceof Error ? err.message : String(err);
  // The SDK prefixes the code number ("7 PERMISSION_DENIED: ..."): keep the words once.
  const text = redactText(message.replace(/^\d+ [A-Z_]+: /, ''))
    .split('\n')[0]!
    .slice(0, 300);
  return code !== undefined && GRPC_CODES[code] ? `${GRPC_CODES[code]}: ${text}` : text;
}

interface Diff {
  missing: RequiredAttribute[];
  wrongType: { key: RequiredAttribute; registeredAs: string }[];
}

function diff(listed: Record<string, number | string>, required: readonly RequiredAttribute[]): Diff {
  const out: Diff = { missing: [], wrongType: [] };
  for (const key of required) {
    const have = listed[key.name];
    if (have === undefined) out.missing.push(key);
    else if (typeName(have) !== TYPE_NAMES[key.type])
      out.wrongType.push({ key, registeredAs: typeName(have) });
  }
  return out;
}

export interface EnsureOptions {
  namespace: string;
  /** TEMPORAL_ADDRESS, for the commands in the error (host:port, no credentials). */
  address: string;
  /** Register what is missing (default true); false only checks. */
  register?: boolean;
  /** How long a registered attribute may take to be listed (default 30 s). */
  visibleWithinMs?: number;
  /** Told what the check is waiting for (readiness). */
  onProgress?: (what: string) => void;
  /** The last line of a problem's message: what happens once the commands ran. */
  whenFixed?: string;
  required?: readonly RequiredAttribute[];
}

export interface EnsureResult {
  /** Attributes this call registered. */
  registered: string[];
  /** `list`: listed with their types; `query`: only a visibility query accepted them (listing not allowed). */
  checkedBy: 'list' | 'query' | 'nothing';
  /** Why the check could not be done (checkedBy `nothing`). */
  unchecked?: string;
}

/**
 * Makes sure the namespace has every search attribute the workflows upsert, with its type: registers missing
 * ones where the server lets this caller, waits until they are listed, else throws a NamespaceSetupError whose
 * message has the commands an operator runs. Transport errors (server down) are thrown as they are.
 */
export async function ensureSearchAttributes(
  services: NamespaceServices,
  opts: EnsureOptions,
): Promise<EnsureResult> {
  const { namespace, address } = opts;
  const required = opts.required ?? REQUIRED_SEARCH_ATTRIBUTES;
  const whenFixed = opts.whenFixed ?? 'then start the worker again.';
  const problem = (d: Diff, cause?: string): NamespaceSetupError =>
    searchAttributeProblem({ namespace, address, ...d }, whenFixed, cause);

  const list = async (): Promise<Record<string, number | string>> =>
    (await services.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};

  let listed: Record<string, number | string>;
  try {
    listed = await list();
  } catch (err) {
    const code = grpcCode(err);
    if (code === 5) throw namespaceNotFound(namespace, address, describeError(err));
    // Not allowed to list (a restrictive authorizer): a visibility query still tells whether they exist.
    if (code === 7 || code === 12) return probeByQuery(services, opts, required, describeError(err), problem);
    throw err;
  }

  const found = diff(listed, required);
  if (found.wrongType.length > 0) throw problem(found);
  if (found.missing.length === 0) return { registered: [], checkedBy: 'list' };
  if (opts.register === false) throw problem(found, 'registering is turned off');

  opts.onProgress?.(
    `registering the search attributes ${attributeNames(found.missing)} in Temporal namespace ${namespace}`,
  );
  try {
    await services.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(found.missing.map((k) => [k.name, INDEXED_VALUE_TYPES[k.type]])),
    });
  } catch (err) {
    // Another worker may have registered them a moment before (ALREADY_EXISTS or INVALID_ARGUMENT then):
    // what counts is what the namespace has now.
    const now = diff(await list(), required);
    if (now.wrongType.length > 0) throw problem(now);
    if (now.missing.length > 0) throw problem(now, describeError(err));
  }

  // Registration is asynchronous on some servers (Elasticsearch): wait until it is listed, within a bound.
  opts.onProgress?.(
    `waiting for the search attributes ${attributeNames(found.missing)} of Temporal namespace ${namespace}`,
  );
  const bound = opts.visibleWithinMs ?? 30_000;
  const deadline = Date.now() + bound;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    const now = diff(await list(), required);
    if (now.wrongType.length > 0) throw problem(now);
    if (now.missing.length === 0) return { registered: found.missing.map((k) => k.name), checkedBy: 'list' };
    if (Date.now() > deadline) throw attributesNotVisible(namespace, address, now.missing, bound);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function probeByQuery(
  services: NamespaceServices,
  opts: EnsureOptions,
  required: readonly RequiredAttribute[],
  listError: string,
  problem: (d: Diff, cause?: string) => NamespaceSetupError,
): Promise<EnsureResult> {
  const missing: RequiredAttribute[] = [];
  for (const key of required) {
    try {
      await services.workflowService.listWorkflowExecutions({
        namespace: opts.namespace,
        query: `${key.name} = 'sevsync-namespace-check'`,
        pageSize: 1,
      });
    } catch (err) {
      const code = grpcCode(err);
      if (code === 3) missing.push(key);
      else if (code === 7 || code === 12)
        return { registered: [], checkedBy: 'nothing', unchecked: `${listError}; ${describeError(err)}` };
      else throw err;
    }
  }
  if (missing.length > 0) throw problem({ missing, wrongType: [] }, `listing them was refused: ${listError}`);
  return { registered: [], checkedBy: 'query' };
}

export interface NamespaceGuardOptions {
  namespace: string;
  address: string;
  status: NamespaceStatus;
  logger: Logger;
  visibleWithinMs?: number;
}

/** The check at worker start: progress and problems go to `status`; a NamespaceSetupError stops the start. */
export async function checkNamespaceAtStart(
  services: NamespaceServices,
  opts: NamespaceGuardOptions,
): Promise<void> {
  const { status, logger, namespace } = opts;
  status.set(`checking the search attributes of Temporal namespace ${namespace}`);
  try {
    const res = await ensureSearchAttributes(services, { ...opts, onProgress: (what) => status.set(what) });
    if (res.registered.length > 0)
      logger.info(
        `registered the search attributes ${res.registered.join(', ')} in Temporal namespace ${namespace}`,
        {
          namespace,
          searchAttributes: res.registered,
        },
      );
    if (res.checkedBy === 'nothing')
      logger.warn(
        `could not check the search attributes of Temporal namespace ${namespace}: make sure ` +
          `${attributeNames(REQUIRED_SEARCH_ATTRIBUTES)} are registered as Keyword`,
        { namespace, reason: res.unchecked },
      );
    status.set(undefined);
  } catch (err) {
    status.set(
      err instanceof NamespaceSetupError
        ? err.summary
        : `could not check the search attributes of Temporal namespace ${namespace}: ${describeError(err)}`,
    );
    throw err;
  }
}

/**
 * A running worker checks its namespace again every `intervalMs`: an attribute removed under it is
 * registered again (as at start), or the problem goes to /readyz and an ERROR line with the commands, until it
 * is fixed. A server that does not answer is left to the worker's own reporting.
 */
export function watchNamespace(
  services: NamespaceServices,
  opts: NamespaceGuardOptions & { intervalMs: number },
): { stop(): void } {
  const { status, logger, namespace } = opts;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void ensureSearchAttributes(services, {
      ...opts,
      whenFixed: `The running worker sees the fix at its next check (every ${Math.max(1, Math.round(opts.intervalMs / 1000))} s).`,
    })
      .then(
        (res) => {
          if (res.registered.length > 0)
            logger.warn(
              `the search attributes ${res.registered.join(', ')} were gone from Temporal namespace ${namespace} ` +
                'while the worker ran: registered them again',
              { namespace, searchAttributes: res.registered },
            );
          if (status.problem() !== undefined && res.checkedBy !== 'nothing') {
            status.set(undefined);
            logger.info(
              `the search attributes of Temporal namespace ${namespace} are as the workflows need them`,
            );
          }
        },
        (err: unknown) => {
          if (!(err instanceof NamespaceSetupError)) {
            logger.debug('namespace check skipped', { namespace, error: describeError(err) });
            return;
          }
          status.set(err.summary);
          logger.error(err.message, { namespace, problem: err.type, commands: err.commands });
        },
      )
      .finally(() => {
        running = false;
      });
  }, opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
