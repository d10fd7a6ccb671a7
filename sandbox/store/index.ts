import { toUnixSeconds } from '../berlin-time';
import type { World } from '../contacts';
import type {
  CommunicationWay,
  CommunicationWayKey,
  Contact,
  ContactAddress,
  Invoice,
  StaticCountry,
} from '../types';
import type { AddressFilter, CommunicationWayFilter } from './contact-parts';
import { ContactTable, type AddContactInput, type ContactFilter, type ContactPatch } from './contacts';
import { InvoiceQueries, type InvoiceFilter } from './invoice-queries';
import { InvoiceTable, type AddInvoiceInput } from './invoices';
import { defaultKnobs, type SandboxKnobs } from './knobs';
import type { Page, PageRequest } from './paging';
import { PoisonRecords, type PoisonObject } from './poison';
import { communicationWayKeys, staticCountries } from './reference';
import { worldOf, type StoreOptions } from './world';

export type { AddressFilter, CommunicationWayFilter } from './contact-parts';
export type { AddContactInput, AddressInput, ContactFilter, ContactPatch } from './contacts';
export type { InvoiceFilter } from './invoice-queries';
export type { AddInvoiceInput } from './invoices';
export type { SandboxKnobs } from './knobs';
export type { Page, PageRequest } from './paging';
export { POISON_OBJECTS, type PoisonObject } from './poison';
export type { GenerateOptions, StoreOptions } from './world';

/**
 * The sandbox's data: invoice i and contact c are pure functions of (seed, i), built when asked for, and
 * mutations are kept as overrides. Usable without HTTP, e.g. to compute the expected result of a sync.
 */
export class SandboxStore {
  readonly seed: number;
  readonly world: World;
  /** Behaviours sevDesk has not pinned down; change them at any time. */
  readonly knobs: SandboxKnobs = defaultKnobs();
  private readonly poison = new PoisonRecords();
  private readonly contactTable: ContactTable;
  private readonly invoiceTable: InvoiceTable;
  private readonly invoiceQueries: InvoiceQueries;

  constructor(options: StoreOptions = {}) {
    this.world = worldOf(options);
    this.seed = this.world.seed;
    const clock = options.now ?? (() => new Date());
    const now = (): number => toUnixSeconds(clock());
    const { world, poison, knobs } = this;
    this.contactTable = new ContactTable({ world, now, poison });
    this.invoiceTable = new InvoiceTable({ world, now, contacts: this.contactTable, poison, knobs });
    this.invoiceQueries = new InvoiceQueries({
      invoices: this.invoiceTable,
      contacts: this.contactTable,
      knobs,
    });
  }

  // ---- invoices ----

  /** Live invoices: the generated and added ones less the deleted drafts. */
  invoiceCount(): number {
    return this.invoiceTable.count();
  }

  /** A copy of one invoice as GET /Invoice/{id} serves it; undefined when unknown or deleted. */
  getInvoice(id: string): Invoice | undefined {
    return this.invoiceTable.get(id);
  }

  /** All current invoices in ascending id order, built one at a time. */
  invoices(): Iterable<Invoice> {
    return this.invoiceTable.all();
  }

  /** One page of invoices; the items are the stored objects, not copies: treat them as read-only. */
  queryInvoices(filter: InvoiceFilter, page: PageRequest): Page<Invoice> {
    return this.invoiceQueries.query(filter, page);
  }

  /** A new invoice of an existing contact; any status but draft (100) gives it the next number. */
  addInvoice(input: AddInvoiceInput): Invoice {
    return this.invoiceTable.add(input);
  }

  /** Draft → open (200) with the next number, as sending it would do. */
  finalizeInvoice(id: string): Invoice {
    return this.invoiceTable.finalize(id);
  }

  /** A payment of `amount` or the open rest; `stamp: false` books it without an `update` bump. */
  payInvoice(id: string, amount?: string, opts: { stamp?: boolean } = {}): Invoice {
    return this.invoiceTable.pay(id, amount, opts);
  }

  /** Cancels an invoice as sevDesk does; returns the new cancellation invoice (SR). */
  cancelInvoice(id: string): Invoice {
    return this.invoiceTable.cancel(id);
  }

  /** Deletes a draft; anything else is refused with 409/159 like sevDesk. */
  deleteInvoice(id: string): void {
    this.invoiceTable.delete(id);
  }

  // ---- contacts ----

  /** All contacts, persons included. */
  contactCount(): number {
    return this.contactTable.count();
  }

  /** One contact as GET /Contact/{id} serves it (persons too); undefined when unknown. */
  contact(id: string): Contact | undefined {
    return this.contactTable.get(id);
  }

  /** All contacts in ascending id order, persons included, built one at a time. */
  contacts(): Iterable<Contact> {
    return this.contactTable.all();
  }

  /** One page of contacts: organisations only unless `includePersons` (depth=1). */
  queryContacts(filter: ContactFilter, page: PageRequest): Page<Contact> {
    return this.contactTable.query(filter, page);
  }

  /** A new contact with its e-mails, phones and address; returns its id. */
  addContact(input: AddContactInput): string {
    return this.contactTable.add(input);
  }

  /** Sets or replaces the main EMAIL way (null removes all e-mails); `stamp: false` keeps `update`. */
  setContactEmail(contactId: string, email: string | null, opts: { stamp?: boolean } = {}): void {
    this.contactTable.setEmail(contactId, email, opts);
  }

  /** Changes a contact's fields (and its first address) and bumps its `update`. */
  updateContact(contactId: string, patch: ContactPatch): Contact {
    return this.contactTable.update(contactId, patch);
  }

  // ---- communication ways and addresses ----

  /** A contact's communication ways; none for an unknown contact. */
  communicationWays(contactId: string): CommunicationWay[] {
    return this.contactTable.parts.waysOf(contactId);
  }

  /** A contact's addresses; none for an unknown contact. */
  addresses(contactId: string): ContactAddress[] {
    return this.contactTable.parts.addressesOf(contactId);
  }

  /** One communication way, found through the id block of its contact. */
  communicationWayById(id: string): CommunicationWay | undefined {
    return this.contactTable.parts.wayById(id);
  }

  /** One address, found through the id block of its contact. */
  addressById(id: string): ContactAddress | undefined {
    return this.contactTable.parts.addressById(id);
  }

  /** One page of communication ways, in contact order. */
  queryCommunicationWays(filter: CommunicationWayFilter, page: PageRequest): Page<CommunicationWay> {
    return this.contactTable.parts.queryWays(filter, page);
  }

  /** One page of addresses, in contact order. */
  queryAddresses(filter: AddressFilter, page: PageRequest): Page<ContactAddress> {
    return this.contactTable.parts.queryAddresses(filter, page);
  }

  // ---- reference data ----

  /** GET /StaticCountry: the same table for every account. */
  countries(): StaticCountry[] {
    return staticCountries();
  }

  /** GET /CommunicationWayKey: the same keys for every account. */
  communicationWayKeys(): CommunicationWayKey[] {
    return communicationWayKeys();
  }

  // ---- poison records: raw wire fields served over the real ones (tests and the fault campaign) ----

  /**
   * Serves `fields` over the wire values of one object (e.g. `sumGross: "1000000000000000"`, a name with a
   * NUL character) on every read until cleared (`null`); the stored data, and so mutations, stay real.
   */
  setPoison(objectName: PoisonObject, id: string, fields: Record<string, unknown> | null): void {
    this.poison.set(objectName, id, fields);
  }

  /** Ends all poison records at once. */
  clearPoison(): void {
    this.poison.clear();
  }

  /** The poison records in force, as the control API lists them. */
  poisonedObjects(): { objectName: string; id: string; fields: Record<string, unknown> }[] {
    return this.poison.list();
  }
}
