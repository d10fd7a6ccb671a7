import type { ContactRow } from '../domain/contact';
import { toContactRow, unreadableContactRow } from '../domain/contact';
import { sensibleInstant } from '../domain/limits';
import type { InvalidObject, Page, SevdeskClient } from '../sevdesk/client';
import { collectPages, dedupeById, walkPages } from '../sevdesk/client';
import { SevdeskNotFoundError, SevdeskSchemaError } from '../sevdesk/errors';
import type { CommunicationWay, Contact, ContactAddress } from '../sevdesk/schema';

/** Above this many unknown contacts, pulling everything in pages of 1,000 beats 3-4 requests per contact. */
export const BULK_CONTACT_THRESHOLD = 40;

/**
 * Pages of one contact list asked for at once after its first (fetchAllContacts): the per-token request limit
 * of the transport still bounds what reaches sevDesk. Imports pass their window (SEVSYNC_IMPORT_WINDOW).
 */
export const CONTACT_LIST_CONCURRENCY = 4;

/** sevDesk's StaticCountry table hardly ever changes: loaded once per base URL every few hours. */
export const COUNTRY_CACHE_TTL_MS = 6 * 60 * 60 * 1000;
const countryCache = new Map<string, { loadedAt: number; names: Promise<Map<string, string>> }>();
const countryCacheByClient = new WeakMap<
  SevdeskClient,
  { loadedAt: number; names: Promise<Map<string, string>> }
>();

/** Forgets every cached country list (tests). */
export function clearCountryCache(): void {
  countryCache.clear();
}

export async function countryNames(
  client: SevdeskClient,
  opts: { now?: number } = {},
): Promise<Map<string, string>> {
  const now = opts.now ?? Date.now();
  const baseUrl = (client as { baseUrl?: unknown }).baseUrl;
  const key = typeof baseUrl === 'string' ? baseUrl.replace(/\/+$/, '') : null;
  const cached = key === null ? countryCacheByClient.get(client) : countryCache.get(key);
  if (cached && now - cached.loadedAt < COUNTRY_CACHE_TTL_MS) return cached.names;
  const entry = {
    loadedAt: now,
    names: client
      .listStaticCountries()
      .then((countries) => new Map(countries.map((c) => [c.id, c.name ?? c.nameEn ?? c.code ?? c.id]))),
  };
  if (key === null) countryCacheByClient.set(client, entry);
  else countryCache.set(key, entry);
  // A failed load is not cached.
  entry.names.catch(() => {
    if (key === null) {
      if (countryCacheByClient.get(client) === entry) countryCacheByClient.delete(client);
    } else if (countryCache.get(key) === entry) countryCache.delete(key);
  });
  return entry.names;
}

/**
 * Every object of a list, and the objects that failed their schema (never fatal). With `concurrency` > 1
 * the pages after the first are asked for together (collectPages); an object two pages both carried (rows
 * moving while they are read) is kept once.
 */
export async function collectTolerant<T extends { id: string }>(
  fetch: (offset: number, limit: number, countAll: boolean) => Promise<Page<T>>,
  opts: { concurrency?: number } = {},
): Promise<{ objects: T[]; invalid: InvalidObject[] }> {
  const objects: T[] = [];
  const invalid: InvalidObject[] = [];
  if ((opts.concurrency ?? 1) <= 1) {
    for await (const { page } of walkPages((offset, limit) => fetch(offset, limit, false))) {
      objects.push(...page.objects);
      invalid.push(...page.invalid);
    }
    return { objects, invalid };
  }
  const seen = new Set<string>();
  for (const page of await collectPages(fetch, { concurrency: opts.concurrency })) {
    objects.push(...dedupeById<T>(page.objects, seen));
    invalid.push(...page.invalid);
  }
  return { objects, invalid };
}

const hasMalformed = (list: { objects: { malformed?: string | undefined }[]; invalid: InvalidObject[] }) =>
  list.invalid.length > 0 || list.objects.some((o) => o.malformed !== undefined);

const describeInvalid = (what: string, bad: InvalidObject): string =>
  `${what} ${bad.id ?? '(no id)'} is malformed (${bad.error.message})`;

function groupByContact<T extends { contact?: { id: string } | undefined }>(rows: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of rows) {
    const id = r.contact?.id;
    if (!id) continue;
    const list = map.get(id);
    if (list) list.push(r);
    else map.set(id, [r]);
  }
  return map;
}

/**
 * Every contact of the account with its e-mails, phones and addresses: three paged walks. One malformed
 * contact, e-mail or address affects only its own contact: that row comes back with `read_error` (a stored
 * row keeps its data; the problem is reported). A malformed e-mail or address that does not even say whose
 * it is makes the lists unreliable for every contact; the lists are read once more, and if that persists
 * every row carries the problem rather than guessing.
 */
export async function fetchAllContacts(
  client: SevdeskClient,
  opts: { concurrency?: number } = {},
): Promise<{ rows: ContactRow[]; maxUpdate: number | null; problems: string[] }> {
  const paging = { concurrency: opts.concurrency ?? CONTACT_LIST_CONCURRENCY };
  const readParts = () =>
    Promise.all([
      collectTolerant<CommunicationWay>(
        (offset, limit, countAll) => client.listCommunicationWays({ offset, limit, countAll }),
        paging,
      ),
      collectTolerant<ContactAddress>(
        (offset, limit, countAll) => client.listContactAddresses({ offset, limit, countAll }),
        paging,
      ),
    ]);
  const readContacts = () =>
    collectTolerant<Contact>(
      (offset, limit, countAll) => client.listContacts({ offset, limit, countAll }),
      paging,
    );
  const [firstContacts, first, countries] = await Promise.all([
    readContacts(),
    readParts(),
    countryNames(client),
  ]);
  // Malformed objects are usually transient: the list is read once more before anything is reported.
  const contacts = firstContacts.invalid.length > 0 ? await readContacts() : firstContacts;
  let [ways, addresses] = first;
  // Malformed objects are usually transient: one more read of the two lists before anything is reported.
  if (hasMalformed(ways) || hasMalformed(addresses)) [ways, addresses] = await readParts();
  const unattributed = [
    ...ways.invalid.map((b) => describeInvalid('CommunicationWay', b)),
    ...addresses.invalid.map((b) => describeInvalid('ContactAddress', b)),
  ];
  const listProblem =
    unattributed.length > 0
      ? `the e-mail and address lists did not load completely: ${unattributed[0]}${
          unattributed.length > 1 ? ` (and ${unattributed.length - 1} more)` : ''
        }`
      : undefined;
  const byId = new Map(contacts.objects.map((c) => [c.id, c]));
  const unreadable = new Map<string, string>();
  for (const bad of contacts.invalid) {
    if (bad.id !== null && !byId.has(bad.id)) unreadable.set(bad.id, describeInvalid('Contact', bad));
  }
  const waysOf = groupByContact(ways.objects);
  const addressesOf = groupByContact(addresses.objects);
  let maxUpdate: number | null = null;
  const rows = contacts.objects.map((contact) => {
    // A stamp outside 1900..2200 is a glitch: it must not move the contact cursor.
    const stamp = new Date(contact.update);
    const t = Math.floor(stamp.getTime() / 1000);
    if (sensibleInstant(stamp) && (maxUpdate === null || t > maxUpdate)) maxUpdate = t;
    const parentId = contact.parent?.id;
    const parentProblem =
      parentId && unreadable.has(parentId) ? `its organisation: ${unreadable.get(parentId)}` : undefined;
    return toContactRow({
      contact,
      parent: parentId ? byId.get(parentId) : undefined,
      ways: waysOf.get(contact.id) ?? [],
      addresses: addressesOf.get(contact.id) ?? [],
      countries,
      problem: listProblem ?? parentProblem,
    });
  });
  for (const [id, reason] of unreadable) rows.push(unreadableContactRow(id, reason));
  const problems = [
    ...unattributed,
    ...contacts.invalid.filter((b) => b.id === null).map((b) => describeInvalid('Contact', b)),
    ...rows.flatMap((r) => (r.read_error ? [`contact ${r.source_id}: ${r.read_error}`] : [])),
  ];
  return { rows, maxUpdate, problems };
}

/**
 * A few contacts by id (a contact that vanished is simply left out). A contact that cannot be read, or whose
 * e-mails, addresses or organisation cannot, comes back with `read_error`: never fatal to the others.
 */
export async function fetchContacts(client: SevdeskClient, ids: string[]): Promise<ContactRow[]> {
  if (ids.length === 0) return [];
  const countries = await countryNames(client);
  const parents = new Map<string, Promise<Contact | SevdeskSchemaError | undefined>>();
  const getParent = (id: string, fresh: boolean) => {
    let p = fresh ? undefined : parents.get(id);
    if (!p) {
      p = client.getContact(id).catch((err: unknown) => {
        if (err instanceof SevdeskNotFoundError) return undefined;
        if (err instanceof SevdeskSchemaError) return err;
        throw err;
      });
      parents.set(id, p);
    }
    return p;
  };
  const readOne = async (id: string): Promise<ContactRow | null> => {
    const first = await readContact(id, false);
    // A malformed reply is usually transient: read that one contact once more before reporting it.
    return first?.read_error ? readContact(id, true) : first;
  };
  const readContact = async (id: string, fresh: boolean): Promise<ContactRow | null> => {
    let contact: Contact;
    try {
      contact = await client.getContact(id);
    } catch (err) {
      if (err instanceof SevdeskNotFoundError) return null;
      if (err instanceof SevdeskSchemaError) return unreadableContactRow(id, err.message);
      throw err;
    }
    const [ways, addresses, parent] = await Promise.all([
      collectTolerant<CommunicationWay>((offset, limit) =>
        client.listCommunicationWays({ contactId: id, offset, limit }),
      ),
      collectTolerant<ContactAddress>((offset, limit) =>
        client.listContactAddresses({ contactId: id, offset, limit }),
      ),
      contact.parent ? getParent(contact.parent.id, fresh) : Promise.resolve(undefined),
    ]);
    const [badWay] = ways.invalid;
    const [badAddress] = addresses.invalid;
    const problem =
      parent instanceof SevdeskSchemaError
        ? `its organisation ${contact.parent?.id ?? ''} is malformed (${parent.message})`
        : badWay
          ? describeInvalid('CommunicationWay', badWay)
          : badAddress
            ? describeInvalid('ContactAddress', badAddress)
            : undefined;
    return toContactRow({
      contact,
      parent: parent instanceof SevdeskSchemaError ? undefined : parent,
      ways: ways.objects,
      addresses: addresses.objects,
      countries,
      problem,
    });
  };
  const rows = await Promise.all([...new Set(ids)].map(readOne));
  return rows.filter((r): r is ContactRow => r !== null);
}

/** Contacts changed since `updateAfter` (unix s): ids and the newest `update` seen. */
export async function changedContactIds(
  client: SevdeskClient,
  updateAfter: number,
): Promise<{ ids: string[]; listed: { id: string; update: string }[]; maxUpdate: number | null }> {
  // One malformed contact in the change list must not stop the cycle: it is listed as changed (read again by
  // id, where a contact that stays unreadable is reported and keeps its stored data), the rest goes on.
  const { objects: contacts, invalid } = await collectTolerant<Contact>((offset, limit) =>
    client.listContacts({ offset, limit, updateAfter }),
  );
  let maxUpdate: number | null = null;
  for (const c of contacts) {
    const t = Math.floor(Date.parse(c.update) / 1000);
    if (Number.isFinite(t) && (maxUpdate === null || t > maxUpdate)) maxUpdate = t;
  }
  const unreadable = invalid.flatMap((x) => (x.id ? [{ id: x.id, update: UNREADABLE_STAMP }] : []));
  const listed = [
    ...new Map([
      ...contacts.map((c) => [c.id, { id: c.id, update: c.update }] as const),
      ...unreadable.map((u) => [u.id, u] as const),
    ]).values(),
  ];
  return { ids: listed.map((c) => c.id), listed, maxUpdate };
}

/** Newer than any stored stamp: a contact listed malformed is always read again by id. */
const UNREADABLE_STAMP = '9999-12-31T23:59:59+00:00';
