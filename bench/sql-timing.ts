import type { Sql } from '../src/db/client';

// Times every statement the product code sends through a postgres.js handle, without touching that code: a
// Proxy around the tagged-template function (and around each transaction's `tx`). postgres.js queries are
// lazy and run when first awaited; the timer starts there (see timeQuery). The overhead is a
// performance.now() pair per statement.

export class StatementTimes {
  readonly byLabel = new Map<string, { count: number; ms: number }>();

  record(label: string, ms: number): void {
    const cur = this.byLabel.get(label) ?? { count: 0, ms: 0 };
    cur.count += 1;
    cur.ms += ms;
    this.byLabel.set(label, cur);
  }

  /** Sorted by total time, largest first. */
  top(): { label: string; count: number; ms: number }[] {
    return [...this.byLabel.entries()].map(([label, v]) => ({ label, ...v })).sort((a, b) => b.ms - a.ms);
  }
}

/** A short name for a statement: its first words, e.g. "insert into invoices as i". */
export function statementLabel(text: string): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lower = words.map((w) => w.toLowerCase());
  const n = lower[0] === 'with' ? 6 : lower[0] === 'select' ? 8 : 5;
  return words.slice(0, n).join(' ').replace(/\(.*$/, '').slice(0, 60);
}

/**
 * Times a statement from the moment the product awaits it. The timer hooks the query's own `then` instead of
 * calling it: a tagged template may also be a fragment that the product interpolates into another statement,
 * and calling `then` on a fragment would run it on its own.
 */
function timeQuery(query: unknown, label: string, times: StatementTimes): void {
  const q = query as { then: PromiseLike<unknown>['then'] };
  const run = q.then.bind(q);
  let started: number | undefined;
  q.then = (onFulfilled, onRejected) => {
    if (started === undefined) {
      started = performance.now();
      const t0 = started;
      const done = () => times.record(label, performance.now() - t0);
      return run(
        (v) => {
          done();
          return v;
        },
        (e: unknown) => {
          done();
          throw e;
        },
      ).then(onFulfilled, onRejected);
    }
    return run(onFulfilled, onRejected);
  };
}

type AnyFn = (...args: unknown[]) => unknown;

export function timedSql(sql: Sql, times: StatementTimes): Sql {
  const wrap = (target: AnyFn): AnyFn =>
    new Proxy(target, {
      apply(fn, thisArg, args: unknown[]) {
        const result = Reflect.apply(fn, thisArg, args);
        const strings = args[0];
        // Only tagged templates are statements; sql(value) helpers are fragments and stay untouched.
        if (Array.isArray(strings) && 'raw' in strings)
          timeQuery(result, statementLabel(strings.join('$')), times);
        return result;
      },
      get(fn, prop, receiver) {
        const value = Reflect.get(fn, prop, receiver) as unknown;
        if (prop === 'unsafe' && typeof value === 'function') {
          return (text: string, ...rest: unknown[]) => {
            const q = (value as AnyFn).call(fn, text, ...rest);
            timeQuery(q, statementLabel(text), times);
            return q;
          };
        }
        if (prop === 'begin' && typeof value === 'function') {
          return (...args: unknown[]) => {
            const cb = args[args.length - 1] as (tx: AnyFn) => unknown;
            const started = performance.now();
            const res = (value as AnyFn).call(fn, ...args.slice(0, -1), (tx: AnyFn) =>
              cb(wrap(tx)),
            ) as Promise<unknown>;
            const done = () => times.record('(transaction begin..commit)', performance.now() - started);
            res.then(done, done);
            return res;
          };
        }
        return value;
      },
    });
  return wrap(sql as unknown as AnyFn) as unknown as Sql;
}
