import type { Sandbox } from '../sandbox';
import { SandboxError } from '../sandbox';
import type { Rng } from '../sandbox/random';
import type { FaultEvent } from './plan';

/**
 * Invoices added, paid or cancelled in the sandbox while the sync pages through it. Targets are drawn from
 * the event's own random stream, so the same seed changes the same invoices.
 */
export function mutate(sandbox: Sandbox, e: FaultEvent, rng: Rng): number {
  const store = sandbox.store;
  const randomInvoice = () =>
    store.queryInvoices({}, { offset: rng.int(store.invoiceCount()), limit: 1, countAll: false }).items[0];
  const payable = new Set(['RE', 'AR', 'TR', 'ER']);
  let done = 0;
  for (let tries = 0; done < e.times && tries < e.times * 20; tries++) {
    const inv = randomInvoice();
    if (!inv) break;
    try {
      if (e.kind === 'invoices-added') {
        const status = rng.weighted([
          ['200', 5],
          ['1000', 2],
          ['750', 2],
          ['100', 1],
        ] as const);
        store.addInvoice({
          contactId: inv.contact.id,
          invoiceType: rng.weighted([
            ['RE', 7],
            ['AR', 1],
            ['TR', 1],
            ['ER', 1],
          ] as const),
          status,
          sumNet: `${rng.range(5, 9000)}.${String(rng.int(100)).padStart(2, '0')}`,
          taxRate: rng.pick([0, 7, 19] as const),
        });
      } else if (e.kind === 'invoices-paid') {
        if (!payable.has(inv.invoiceType) || (inv.status !== '200' && inv.status !== '750')) continue;
        const remaining = Math.round(Number(inv.sumGross) * 100) - Math.round(inv.paidAmount * 100);
        if (remaining <= 0) continue;
        const partial = remaining >= 3 && rng.chance(0.4);
        store.payInvoice(inv.id, partial ? (Math.floor(remaining / 3) / 100).toFixed(2) : undefined);
      } else {
        if (!payable.has(inv.invoiceType) || (inv.status !== '200' && inv.status !== '1000')) continue;
        store.cancelInvoice(inv.id);
      }
      done += 1;
    } catch (err) {
      // Refusals (already cancelled, not payable) are sevDesk's rules: pick another invoice.
      if (!(err instanceof SandboxError)) throw err;
    }
  }
  return done;
}
