import {
  ADDRESS_ID_BASE,
  ADDRESS_SLOTS,
  COMM_WAY_ID_BASE,
  COMM_WAY_SLOTS,
  addressCount,
  addressToWire,
  commWayCount,
  commWayPlan,
  commWayToWire,
  generateAddresses,
  generateCommWays,
  generateContact,
  type AddressData,
  type CommWayData,
  type World,
} from '../contacts';
import type { IdSpace } from '../ids';
import type { CommunicationWay, ContactAddress } from '../types';
import { pagePerOwner, type Page, type PageRequest } from './paging';
import type { PoisonRecords } from './poison';

export interface CommunicationWayFilter {
  contactId?: string;
  type?: string;
  main?: string;
}

export interface AddressFilter {
  contactId?: string;
}

/**
 * The contacts' communication ways and addresses: generated from the seed, or the overrides of mutated
 * and added contacts, with prefix counts per contact so that any page of all of them is found at once.
 */
export class ContactParts {
  private readonly world: World;
  /** Contacts below this index are generated; those added later have no generated parts. */
  private readonly baseContacts: number;
  private readonly contactCount: () => number;
  private readonly contactIds: IdSpace;
  private readonly contactIndex: (id: string) => number | undefined;
  private readonly poison: PoisonRecords;
  private readonly wayOverrides = new Map<number, CommWayData[]>();
  private readonly addressOverrides = new Map<number, AddressData[]>();
  private wayPrefix: Uint32Array | null = null;
  private addressPrefix: Uint32Array | null = null;

  constructor(deps: {
    world: World;
    contactCount: () => number;
    contactIds: IdSpace;
    contactIndex: (id: string) => number | undefined;
    poison: PoisonRecords;
  }) {
    this.world = deps.world;
    this.baseContacts = deps.world.contacts;
    this.contactCount = deps.contactCount;
    this.contactIds = deps.contactIds;
    this.contactIndex = deps.contactIndex;
    this.poison = deps.poison;
  }

  // ---- data ----

  ways(c: number): CommWayData[] {
    return (
      this.wayOverrides.get(c) ??
      (c < this.baseContacts ? generateCommWays(this.world, generateContact(this.world, c)) : [])
    );
  }

  addresses(c: number): AddressData[] {
    return (
      this.addressOverrides.get(c) ??
      (c < this.baseContacts ? generateAddresses(this.world, generateContact(this.world, c)) : [])
    );
  }

  setWays(c: number, ways: CommWayData[]): void {
    this.wayOverrides.set(c, ways);
    this.invalidatePrefixes();
  }

  setAddresses(c: number, addresses: AddressData[]): void {
    this.addressOverrides.set(c, addresses);
    this.invalidatePrefixes();
  }

  // ---- wire reads ----

  waysOf(contactId: string): CommunicationWay[] {
    const c = this.contactIndex(contactId);
    return c === undefined ? [] : this.waysWire(c);
  }

  addressesOf(contactId: string): ContactAddress[] {
    const c = this.contactIndex(contactId);
    return c === undefined ? [] : this.addressesWire(c);
  }

  wayById(id: string): CommunicationWay | undefined {
    const c = this.ownerOf(id, COMM_WAY_ID_BASE, COMM_WAY_SLOTS);
    return c === undefined ? undefined : this.waysWire(c).find((w) => w.id === id);
  }

  addressById(id: string): ContactAddress | undefined {
    const c = this.ownerOf(id, ADDRESS_ID_BASE, ADDRESS_SLOTS);
    return c === undefined ? undefined : this.addressesWire(c).find((a) => a.id === id);
  }

  queryWays(filter: CommunicationWayFilter, page: PageRequest): Page<CommunicationWay> {
    const prefix = this.prefix('ways');
    return this.queryPerContact({
      contactId: filter.contactId,
      prefix,
      page,
      list: (c) => this.waysWire(c),
      match:
        filter.type === undefined && filter.main === undefined
          ? undefined
          : (w) =>
              (filter.type === undefined || w.type === filter.type) &&
              (filter.main === undefined || w.main === filter.main),
    });
  }

  queryAddresses(filter: AddressFilter, page: PageRequest): Page<ContactAddress> {
    return this.queryPerContact({
      contactId: filter.contactId,
      prefix: this.prefix('addresses'),
      page,
      list: (c) => this.addressesWire(c),
    });
  }

  // ---- internals ----

  private waysWire(c: number): CommunicationWay[] {
    const owner = this.partOwner(c);
    return this.ways(c).map((way) => this.poison.apply('CommunicationWay', commWayToWire({ way, ...owner })));
  }

  private addressesWire(c: number): ContactAddress[] {
    const owner = this.partOwner(c);
    return this.addresses(c).map((address) =>
      this.poison.apply('ContactAddress', addressToWire({ address, ...owner })),
    );
  }

  /** The owner of contact `c`'s ways and addresses, as their wire objects name it. */
  private partOwner(c: number) {
    return { contactIndex: c, contactId: this.contactIds.id(c), sevClient: this.world.sevClient };
  }

  /** The contact whose id block contains a communication way or address id. */
  private ownerOf(id: string, base: number, slots: number): number | undefined {
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const c = Math.floor((Number(id) - base) / slots);
    return c >= 0 && c < this.contactCount() ? c : undefined;
  }

  private invalidatePrefixes(): void {
    this.wayPrefix = null;
    this.addressPrefix = null;
  }

  /** prefix[c] = number of ways (or addresses) of contacts before c, for positional paging. */
  private prefix(kind: 'ways' | 'addresses'): Uint32Array {
    const cached = kind === 'ways' ? this.wayPrefix : this.addressPrefix;
    if (cached) return cached;
    const n = this.contactCount();
    const seed = this.world.seed;
    const prefix = new Uint32Array(n + 1);
    for (let c = 0; c < n; c++) {
      let count: number;
      if (kind === 'ways') {
        const o = this.wayOverrides.get(c);
        count = o ? o.length : c < this.baseContacts ? commWayCount(commWayPlan(seed, c)) : 0;
      } else {
        const o = this.addressOverrides.get(c);
        count = o ? o.length : c < this.baseContacts ? addressCount(seed, c) : 0;
      }
      prefix[c + 1] = (prefix[c] ?? 0) + count;
    }
    if (kind === 'ways') this.wayPrefix = prefix;
    else this.addressPrefix = prefix;
    return prefix;
  }

  /** One contact's list when `contactId` is given, else a page of all contacts' lists in contact order. */
  private queryPerContact<T>({
    contactId,
    prefix,
    page,
    list,
    match,
  }: {
    contactId: string | undefined;
    prefix: Uint32Array;
    page: PageRequest;
    list: (c: number) => T[];
    match?: (item: T) => boolean;
  }): Page<T> {
    if (contactId !== undefined) {
      const c = this.contactIndex(contactId);
      const all = (c === undefined ? [] : list(c)).filter((item) => !match || match(item));
      const items = all.slice(page.offset, page.offset + page.limit);
      return page.countAll ? { items, total: all.length } : { items };
    }
    return pagePerOwner({ owners: this.contactCount(), prefix, page, list, match });
  }
}
