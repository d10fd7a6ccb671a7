// A dry run writes nothing, so the contacts its pages need live in the worker's memory for the length of
// the import: loaded once at its start (or on whichever worker runs a page first), dropped when it ends or
// stops.
import type { ContactRow } from '../domain/contact';
import type { SevdeskClient } from '../sevdesk/client';
import type { Invoice } from '../sevdesk/schema';
import { fetchAllContacts } from './sevdesk-reads';

export class DryRunContacts {
  private readonly byImport = new Map<string, Map<string, ContactRow>>();

  /** @param concurrency contact pages in flight while loading (the import's window). */
  constructor(private readonly concurrency: number) {}

  /** Imports whose contacts are in memory (tests). */
  get imports(): number {
    return this.byImport.size;
  }

  /** Every contact of the import's account, loaded on first use. */
  async load(importId: string, client: SevdeskClient): Promise<Map<string, ContactRow>> {
    let cache = this.byImport.get(importId);
    if (!cache) {
      const all = await fetchAllContacts(client, { concurrency: this.concurrency });
      cache = new Map(all.rows.map((r) => [r.source_id, r]));
      this.byImport.set(importId, cache);
    }
    return cache;
  }

  /** The contacts the given invoices point at. */
  async of(importId: string, client: SevdeskClient, invoices: Invoice[]): Promise<ContactRow[]> {
    const cache = await this.load(importId, client);
    const ids = new Set(invoices.flatMap((i) => (i.contact ? [i.contact.id] : [])));
    return [...ids].flatMap((id) => cache.get(id) ?? []);
  }

  /** The import finished or stopped: its contacts leave memory. */
  forget(importId: string): void {
    this.byImport.delete(importId);
  }
}
