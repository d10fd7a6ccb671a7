import { berlinIso } from '../berlin-time';
import {
  COMM_WAY_SLOTS,
  contactCreate,
  contactDisplayName,
  contactToWire,
  contactUpdate,
  generateAddresses,
  generateContact,
  kindOf,
  parentIndexOf,
  type AddressData,
  type CommWayData,
  type ContactData,
  type World,
} from '../contacts';
import { SandboxError, badRequest, notFound } from '../errors';
import { countryById } from '../german-data';
import { IdSpace } from '../ids';
import { addressBlock, type ContactSummary } from '../invoices';
import { Stream } from '../random';
import type { CommunicationWayType, Contact } from '../types';
import { ContactParts } from './contact-parts';
import { scanPage, type Page, type PageRequest } from './paging';
import type { PoisonRecords } from './poison';

export interface AddContactInput {
  kind: 'person' | 'organisation';
  name?: string;
  surename?: string;
  familyname?: string;
  academicTitle?: string;
  parentId?: string;
  emails?: { value: string; main?: boolean; key?: number }[];
  phones?: string[];
  mobiles?: string[];
  address?: AddressInput;
}

export interface AddressInput {
  street: string;
  zip: string;
  city: string;
  countryId?: string;
}

export interface ContactPatch {
  name?: string | null;
  surename?: string | null;
  familyname?: string | null;
  academicTitle?: string | null;
  titel?: string | null;
  description?: string | null;
  vatNumber?: string | null;
  address?: AddressInput;
}

export interface ContactFilter {
  /** false (depth=0, the API default): organisations only. */
  includePersons: boolean;
  customerNumber?: string;
  parentId?: string;
  updateAfter?: number;
  updateBefore?: number;
  createAfter?: number;
  createBefore?: number;
}

const CONTACT_ID_BASE = 98_000_000;

/** Per-contact facts used by filters, in typed arrays like the invoice columns. */
class ContactColumns {
  length = 0;
  person = new Uint8Array(0);
  parent = new Int32Array(0);
  create = new Uint32Array(0);
  update = new Uint32Array(0);

  reserve(capacity: number): void {
    if (capacity <= this.person.length) return;
    const person = new Uint8Array(capacity);
    person.set(this.person);
    const parent = new Int32Array(capacity);
    parent.set(this.parent);
    const create = new Uint32Array(capacity);
    create.set(this.create);
    const update = new Uint32Array(capacity);
    update.set(this.update);
    Object.assign(this, { person, parent, create, update });
  }

  push(): number {
    if (this.length === this.person.length) this.reserve(Math.max(16, this.length * 2));
    return this.length++;
  }
}

/**
 * The contacts: contact c is generated from (seed, c); the facts filters need sit in typed columns, and
 * mutated or added contacts are kept as overrides. Their ways and addresses are `parts`.
 */
export class ContactTable {
  readonly ids: IdSpace;
  readonly parts: ContactParts;
  private readonly world: World;
  private readonly now: () => number;
  private readonly poison: PoisonRecords;
  private readonly columns = new ContactColumns();
  private readonly overrides = new Map<number, ContactData>();
  private readonly summaryCache = new Map<number, ContactSummary>();

  constructor({ world, now, poison }: { world: World; now: () => number; poison: PoisonRecords }) {
    this.world = world;
    this.now = now;
    this.poison = poison;
    this.ids = new IdSpace({ seed: world.seed, stream: Stream.contactId, base: CONTACT_ID_BASE, stride: 4 });
    const cc = this.columns;
    cc.reserve(world.contacts + 16);
    for (let c = 0; c < world.contacts; c++) {
      cc.push();
      const create = contactCreate(world, c);
      cc.person[c] = kindOf(world.seed, c) === 'person' ? 1 : 0;
      cc.parent[c] = parentIndexOf(world.seed, c);
      cc.create[c] = create;
      cc.update[c] = contactUpdate(world, c, create);
    }
    this.parts = new ContactParts({
      world,
      contactCount: () => this.columns.length,
      contactIds: this.ids,
      contactIndex: (id) => this.index(id),
      poison,
    });
  }

  // ---- reads ----

  count(): number {
    return this.columns.length;
  }

  /** The index of a contact id, or undefined when there is no such contact. */
  index(id: string): number | undefined {
    const c = this.ids.index(id);
    return c === undefined || c >= this.columns.length ? undefined : c;
  }

  require(id: string): number {
    const c = this.index(id);
    if (c === undefined) throw notFound('Contact', id);
    return c;
  }

  get(id: string): Contact | undefined {
    const c = this.index(id);
    return c === undefined ? undefined : this.wire(c);
  }

  *all(): Iterable<Contact> {
    for (let c = 0; c < this.columns.length; c++) yield this.wire(c);
  }

  query(filter: ContactFilter, page: PageRequest): Page<Contact> {
    const cc = this.columns;
    const parent = filter.parentId === undefined ? undefined : (this.index(filter.parentId) ?? -2);
    let only: number | undefined;
    if (filter.customerNumber !== undefined) {
      const n = Number(filter.customerNumber) - 1000;
      only = Number.isInteger(n) && n >= 0 && String(n + 1000) === filter.customerNumber ? n : -1;
    }
    const match = (c: number): boolean =>
      (filter.includePersons || cc.person[c] === 0) &&
      (only === undefined || c === only) &&
      (parent === undefined || cc.parent[c] === parent) &&
      (filter.updateAfter === undefined || (cc.update[c] ?? 0) > filter.updateAfter) &&
      (filter.updateBefore === undefined || (cc.update[c] ?? 0) < filter.updateBefore) &&
      (filter.createAfter === undefined || (cc.create[c] ?? 0) > filter.createAfter) &&
      (filter.createBefore === undefined || (cc.create[c] ?? 0) < filter.createBefore);
    const unfiltered =
      filter.includePersons &&
      Object.entries(filter).every(([k, v]) => k === 'includePersons' || v === undefined);
    if (unfiltered) {
      const items: Contact[] = [];
      for (let c = page.offset; c < cc.length && items.length < page.limit; c++) items.push(this.wire(c));
      return page.countAll ? { items, total: cc.length } : { items };
    }
    return scanPage(cc.length, match, page, (c) => this.wire(c));
  }

  // ---- mutations ----

  add(input: AddContactInput): string {
    const now = this.now();
    let parentIndex = -1;
    if (input.parentId !== undefined) {
      parentIndex = this.require(input.parentId);
      if (this.data(parentIndex).kind !== 'organisation') throw badRequest('parent must be an organisation');
      if (input.kind !== 'person') throw badRequest('only persons can have a parent');
    }
    if (input.kind === 'organisation' && !input.name) throw badRequest('an organisation needs a name');
    if (input.kind === 'person' && !input.surename && !input.familyname) {
      throw badRequest('a person needs a surename or a familyname');
    }
    const countryId = input.address?.countryId ?? '1';
    const country = countryById(countryId);
    if (!country) throw badRequest(`unknown StaticCountry ${countryId}`);

    const cc = this.columns;
    const c = cc.push();
    cc.person[c] = input.kind === 'person' ? 1 : 0;
    cc.parent[c] = parentIndex;
    cc.create[c] = now;
    cc.update[c] = now;
    this.overrides.set(c, {
      index: c,
      kind: input.kind,
      parentIndex,
      create: now,
      update: now,
      name: input.kind === 'organisation' ? (input.name ?? null) : null,
      surename: input.kind === 'person' ? (input.surename ?? null) : null,
      familyname: input.kind === 'person' ? (input.familyname ?? null) : null,
      academicTitle: input.academicTitle ?? null,
      titel: null,
      status: '1000',
      customerNumber: String(1000 + c),
      categoryId: '3',
      description: null,
      vatNumber: null,
      bankAccount: null,
      taxNumber: null,
      defaultTimeToPay: null,
      defaultDiscountPercentage: '0',
      governmentAgency: '0',
      buyerReference: null,
      defaultShowVat: '1',
      birthday: null,
      domain: '',
      countryCode: country.code,
    });
    const ways: CommWayData[] = [];
    const add = (type: CommunicationWayType, value: string, keyId: string, main: boolean): void => {
      ways.push({ slot: ways.length, type, value, keyId, main, create: now, update: now });
    };
    const emails = input.emails ?? [];
    const anyMain = emails.some((e) => e.main !== undefined);
    emails.forEach((e, n) => {
      const main = anyMain ? e.main === true : n === 0;
      add('EMAIL', e.value, String(e.key ?? (input.kind === 'person' ? 1 : 2)), main);
    });
    (input.phones ?? []).forEach((p, n) => add('PHONE', p, '2', n === 0));
    (input.mobiles ?? []).forEach((p, n) => add('MOBILE', p, '4', n === 0));
    if (ways.length > COMM_WAY_SLOTS)
      throw badRequest(`at most ${COMM_WAY_SLOTS} communication ways per contact`);
    this.parts.setWays(c, ways);
    this.parts.setAddresses(
      c,
      input.address
        ? [{ slot: 0, ...input.address, countryId, categoryId: '47', name: null, create: now, update: now }]
        : [],
    );
    return this.ids.id(c);
  }

  /**
   * Sets or replaces the main EMAIL way; null removes all e-mails. Bumps the contact's `update` unless
   * `stamp` is false (whether sevDesk bumps it when a CommunicationWay changes is unknown).
   */
  setEmail(contactId: string, email: string | null, opts: { stamp?: boolean } = {}): void {
    const c = this.require(contactId);
    const now = this.now();
    let ways = this.parts.ways(c).map((w) => ({ ...w }));
    if (email === null) {
      ways = ways.filter((w) => w.type !== 'EMAIL');
    } else {
      const main = ways.find((w) => w.type === 'EMAIL' && w.main);
      if (main) {
        main.value = email;
        main.update = now;
      } else {
        const slot = nextSlot(
          ways.map((w) => w.slot),
          COMM_WAY_SLOTS,
        );
        const keyId = this.data(c).kind === 'person' && this.data(c).parentIndex < 0 ? '1' : '2';
        ways.push({ slot, type: 'EMAIL', value: email, keyId, main: true, create: now, update: now });
        ways.sort((a, b) => a.slot - b.slot);
      }
    }
    this.parts.setWays(c, ways);
    if (opts.stamp ?? true) this.touch(c, now);
  }

  update(contactId: string, patch: ContactPatch): Contact {
    const c = this.require(contactId);
    const now = this.now();
    const data = { ...this.data(c) };
    const { address, ...fields } = patch;
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (data as unknown as Record<string, unknown>)[key] = value;
    }
    this.overrides.set(c, data);
    if (address) {
      const countryId = address.countryId ?? '1';
      if (!countryById(countryId)) throw badRequest(`unknown StaticCountry ${countryId}`);
      const list = this.parts.addresses(c).map((a) => ({ ...a }));
      const first = list[0];
      if (first) Object.assign(first, { ...address, countryId, update: now });
      else
        list.push({ slot: 0, ...address, countryId, categoryId: '47', name: null, create: now, update: now });
      this.parts.setAddresses(c, list);
    }
    this.touch(c, now);
    return this.wire(c);
  }

  // ---- what an invoice copies from its contact ----

  /** What generated invoices copied from their contact: the contact as generated, never its later edits. */
  baseSummary(c: number): ContactSummary {
    let summary = this.summaryCache.get(c);
    if (!summary) {
      const data = generateContact(this.world, c);
      const parent = data.parentIndex >= 0 ? generateContact(this.world, data.parentIndex) : undefined;
      summary = summaryOf(data, generateAddresses(this.world, data)[0], parent);
      if (this.summaryCache.size >= 50_000) this.summaryCache.clear();
      this.summaryCache.set(c, summary);
    }
    return summary;
  }

  /** What a new invoice copies from its contact: the contact as it is now. */
  currentSummary(c: number): ContactSummary {
    const data = this.data(c);
    const parent = data.parentIndex >= 0 ? this.data(data.parentIndex) : undefined;
    return summaryOf(data, this.parts.addresses(c)[0], parent);
  }

  // ---- internals ----

  private data(c: number): ContactData {
    return this.overrides.get(c) ?? generateContact(this.world, c);
  }

  private wire(c: number): Contact {
    const data = this.data(c);
    const parentIndex = this.columns.parent[c] ?? -1;
    const wire = contactToWire({
      contact: data,
      id: this.ids.id(c),
      parentId: parentIndex >= 0 ? this.ids.id(parentIndex) : null,
      sevClient: this.world.sevClient,
    });
    wire.update = berlinIso(this.columns.update[c] ?? data.update);
    return this.poison.apply('Contact', wire);
  }

  private touch(c: number, now: number): void {
    const data = { ...this.data(c), update: now };
    this.overrides.set(c, data);
    this.columns.update[c] = now;
  }
}

function summaryOf(
  data: ContactData,
  address: AddressData | undefined,
  parent: ContactData | undefined,
): ContactSummary {
  const summary: Omit<ContactSummary, 'address'> = {
    kind: data.kind,
    displayName: contactDisplayName(data),
    parentName: parent ? contactDisplayName(parent) : null,
    firstName: data.surename,
    lastName: data.familyname,
    street: address?.street ?? null,
    zip: address?.zip ?? null,
    city: address?.city ?? null,
    countryId: address?.countryId ?? '1',
    defaultTimeToPay: data.defaultTimeToPay,
  };
  return { ...summary, address: addressBlock(summary) || null };
}

/** The slot after the highest one in use, else the first free one. */
function nextSlot(used: number[], slots: number): number {
  const next = used.length === 0 ? 0 : Math.max(...used) + 1;
  if (next < slots) return next;
  for (let s = 0; s < slots; s++) if (!used.includes(s)) return s;
  throw new SandboxError({
    status: 500,
    code: null,
    message: 'sandbox: too many communication ways on one contact',
  });
}
