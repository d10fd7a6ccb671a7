// Wakes waiting deliveries when events are written: the change feed's triggers `pg_notify('sevsync_events',
// <account>)` in each writing transaction, delivered at its commit. One LISTEN connection per process; a
// waiter also wakes after its poll interval, because a notification can come before the global feed serves
// the events (it waits for older transactions that are still open) and because a LISTEN connection can drop.
import type { Logger } from '@temporalio/common';
import type { Sql } from '../db/client';

export const EVENTS_CHANNEL = 'sevsync_events';

interface Waiter {
  account: string | undefined;
  wake: () => void;
}

export class EventNotifier {
  private readonly waiters = new Set<Waiter>();
  private listening: Promise<{ unlisten(): Promise<void> } | undefined> | undefined;
  private closed = false;

  constructor(
    private readonly sql: Sql,
    private readonly log?: Logger,
  ) {}

  private ensureListening(): void {
    if (this.listening || this.closed) return;
    this.listening = this.sql
      .listen(EVENTS_CHANNEL, (account) => this.notify(account))
      .then(
        (l) => l,
        (err: unknown) => {
          // Polling still delivers; the next wait tries to listen again.
          this.log?.warn('webhooks: cannot LISTEN for new events; polling', {
            error: err instanceof Error ? err.message : String(err),
          });
          this.listening = undefined;
          return undefined;
        },
      );
  }

  /** Wakes the waiters for this account and those for every account. */
  notify(account: string): void {
    for (const w of this.waiters) if (w.account === undefined || w.account === account) w.wake();
  }

  /**
   * Resolves when events of `account` (undefined: any) may have been written, after `ms` at the latest, or
   * at once when `signal` aborts.
   */
  async wait(account: string | undefined, ms: number, signal?: AbortSignal): Promise<void> {
    this.ensureListening();
    await this.listening;
    if (signal?.aborted || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const waiter: Waiter = { account, wake: () => finish() };
      const timer = setTimeout(() => finish(), ms);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      signal?.addEventListener('abort', finish, { once: true });
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters) w.wake();
    const l = await this.listening;
    this.listening = undefined;
    await l?.unlisten().catch(() => undefined);
  }
}
