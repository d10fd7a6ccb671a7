// `sevsync webhooks add|list|remove|test|enable`: endpoints that receive the change feed as signed webhooks
// (docs/webhooks.md).
import type { Command } from 'commander';
import type { AddedWebhook, WebhookTestResult, WebhookView } from '../app/webhooks';
import { addWebhook, enableWebhook, listWebhooks, removeWebhook, testWebhook } from '../app/webhooks';
import { AppError } from '../app/errors';
import { EVENT_TYPES } from '../db/events';
import { auditCli, print, withApp, withDb } from './common';

const list = (value: string): string[] => value.split(',');

function describeAdded(w: AddedWebhook): string {
  return [
    `webhook ${w.id} added: ${w.types ? w.types.join(', ') : 'every event'} of ${
      w.account ? `account ${w.account}` : 'every account'
    }, from now on, to ${w.url}`,
    `signing secret (shown only now; the receiver verifies webhook-signature with it):`,
    w.secret,
  ].join('\n');
}

/** One endpoint in a line or three: where, what, and how delivery stands. */
export function formatWebhook(w: WebhookView): string {
  const what = `${w.types ? w.types.join(',') : 'all events'} of ${w.account ? `account ${w.account}` : 'every account'}`;
  const lines = [`${w.id}  ${w.url}  (${what})`];
  const delivered = `${w.delivered} delivered${w.lastDeliveredAt ? `, last at ${w.lastDeliveredAt}` : ''}`;
  if (w.state === 'disabled') {
    lines.push(`  DISABLED since ${w.disabledAt ?? '?'}: ${w.disabledReason ?? ''}`.trimEnd());
    lines.push(`  ${delivered}; \`sevsync webhooks enable ${w.id}\` resumes where it stopped`);
  } else if (w.state === 'failing') {
    lines.push(
      `  failing since ${w.failingSince}: ${w.attempts} attempt(s), next at ${w.nextAttemptAt ?? 'now'}; last: ${w.lastError ?? '-'}`,
    );
    lines.push(`  ${delivered}`);
  } else {
    lines.push(`  active, ${delivered}`);
  }
  return lines.join('\n');
}

function describeTest(r: WebhookTestResult): string {
  return r.ok
    ? `webhook ${r.id}: test event ${r.eventId} answered HTTP ${r.status} in ${r.durationMs} ms`
    : `webhook ${r.id}: test event ${r.eventId} failed after ${r.durationMs} ms: ${r.error ?? `HTTP ${r.status}`}`;
}

export function addWebhooksCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('endpoints that receive the change feed as signed webhooks (Standard Webhooks)');

  webhooks
    .command('add')
    .description('add an endpoint: it receives the events from now on; prints its signing secret once')
    .requiredOption('--url <url>', 'https:// URL (plain http:// only to a loopback host)')
    .option('--account <id>', "only this account's events (default: every account's)")
    .option('--types <t1,t2>', `only these event types (default: all): ${EVENT_TYPES.join(', ')}`, list)
    .option('--json', 'machine-readable output: {id, url, account, types, secret}')
    .action(async (o: { url: string; account?: string; types?: string[]; json?: boolean }) => {
      const added = await withApp(async (app) => {
        const w = await addWebhook(app, {
          url: o.url,
          ...(o.account === undefined ? {} : { accountId: o.account }),
          ...(o.types === undefined ? {} : { types: o.types }),
        });
        await auditCli(app, 'webhook.added', o.account ?? null, { id: w.id, host: new URL(w.url).host });
        return w;
      });
      print(o.json ?? false, added, () => describeAdded(added));
    });

  webhooks
    .command('list')
    .description('the endpoints, with how far delivery got; disabled ones say why')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const all = await withDb((deps) => listWebhooks(deps));
      print(o.json ?? false, all, () => (all.length ? all.map(formatWebhook).join('\n') : 'no webhooks'));
    });

  webhooks
    .command('remove <id>')
    .description('stop delivering and remove the endpoint')
    .action(async (id: string) => {
      await withApp(async (app) => {
        await removeWebhook(app, id);
        await auditCli(app, 'webhook.removed', null, { id });
      });
      console.log(`webhook ${id} removed`);
    });

  webhooks
    .command('test <id>')
    .description(
      'send a signed webhook.test event to the endpoint now and show the answer (exit 1 if not 2xx)',
    )
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const res = await withDb((deps) => testWebhook(deps, id));
      print(o.json ?? false, res, () => describeTest(res));
      if (!res.ok)
        throw new AppError('failed', `the endpoint did not answer with 2xx (${res.error ?? res.status})`);
    });

  webhooks
    .command('enable <id>')
    .description('enable a disabled endpoint: delivery resumes where it stopped (idempotent)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const w = await withApp(async (app) => {
        const enabled = await enableWebhook(app, id);
        await auditCli(app, 'webhook.enabled', enabled.account ?? null, { id });
        return enabled;
      });
      print(
        o.json ?? false,
        w,
        () => `webhook ${id} enabled; delivery resumes where it stopped\n${formatWebhook(w)}`,
      );
    });
}
