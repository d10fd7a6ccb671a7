// `sevsync events`: an account's change feed from a seq, once or followed as it grows (docs/events.md).
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ChangeEvent } from '../app';
import { getAccountEvents } from '../app';
import { accountOption, withDb } from './common';

const wholeNumber = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
  return n;
};

/** One line per event: seq, time, type and what changed, in words. */
export function formatEvent(e: ChangeEvent): string {
  const d = e.data as Record<string, unknown> & { changes?: Record<string, [unknown, unknown]> };
  const what = (() => {
    switch (e.type) {
      case 'invoice.created':
      case 'invoice.removed':
        return `${String(d['number'] ?? d['sourceId'])} ${String(d['status'])} ${String(d['amount'])} ${String(
          d['currency'],
        )} -> ${String(d['customer'] ?? '(unassigned)')}${d['reason'] ? ` (${String(d['reason'])})` : ''}`;
      case 'invoice.updated':
      case 'customer.updated':
        return `${String(d['number'] ?? d['email'] ?? d['sourceId'])}: ${Object.entries(d.changes ?? {})
          .map(([k, [a, b]]) => `${k} ${JSON.stringify(a)} -> ${JSON.stringify(b)}`)
          .join(', ')}`;
      case 'customer.created':
        return String(d['email']);
      case 'customer.values_changed': {
        const v = d['values'] as { invoices: string; total: string };
        const p = d['previous'] as { invoices: string; total: string };
        const causes = (d['causes'] as { number: string | null; change: string }[])
          .map((c) => `${c.number ?? '?'} ${c.change}`)
          .join(', ');
        return `${String(d['customer'])}: invoices ${p.invoices} -> ${v.invoices}, total ${p.total} -> ${v.total}${
          causes ? ` (${causes})` : ''
        }`;
      }
      case 'interface.state_changed': {
        const err = d['error'] as { message?: string } | null;
        return `${String(d['from'] ?? '-')} -> ${String(d['to'])}${err?.message ? `: ${err.message}` : ''}`;
      }
      case 'issue.opened':
      case 'issue.resolved':
        return `${String(d['kind'])} ${String(d['invoiceNumber'] ?? d['sourceId'])}: ${String(d['reason'])}`;
      default:
        return JSON.stringify(d);
    }
  })();
  return `#${e.seq} ${e.occurredAt} ${e.type} ${what}`;
}

export function addEventsCommands(program: Command): void {
  accountOption(program.command('events'))
    .description("an account's change feed: every change OneCockpit would see, in order")
    .option(
      '--after <seq>',
      'the last seq already read (0: from the start)',
      wholeNumber(0, Number.MAX_SAFE_INTEGER),
      0,
    )
    .option('--limit <n>', 'events per page (1-1000)', wholeNumber(1, 1000), 100)
    .option('--json', 'machine-readable: {events, next}; with --follow one event per line')
    .option('--follow', 'keep printing new events as they are committed, until Ctrl-C')
    .action(
      async (o: { account: string; after: number; limit: number; json?: boolean; follow?: boolean }) => {
        await withDb(async (deps) => {
          let after = o.after;
          for (;;) {
            const page = await getAccountEvents(deps, o.account, { after, limit: o.limit });
            if (!o.follow) {
              console.log(o.json ? JSON.stringify(page, null, 2) : page.events.map(formatEvent).join('\n'));
              if (!o.json && page.events.length === o.limit)
                console.log(
                  `more after ${page.next}: sevsync events --account ${o.account} --after ${page.next}`,
                );
              return;
            }
            for (const e of page.events) console.log(o.json ? JSON.stringify(e) : formatEvent(e));
            after = page.next;
            if (page.events.length < o.limit) await new Promise((r) => setTimeout(r, 1000));
          }
        });
      },
    );
}
