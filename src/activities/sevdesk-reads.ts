import { ApplicationFailure } from '@temporalio/common';
import type { ContactRow } from '../domain/contact';
import { toContactRow } from '../domain/contact';
import type { Page, SevdeskClient } from '../sevdesk/client';
import { walkPages } from '../sevdesk/client';
import { SevdeskNotFoundError } from '../sevdesk/errors';
import type { CommunicationWay, Contact, ContactAddress } from '../sevdesk/schema';

/** Above this many unknown contacts, pulling everything in pages of 1,000 beats 3-4 requests per contact. */
export const BULK_CONTACT_THRESHOLD = 40;

export async function countryNames(client: SevdeskClient): Promise<Map<string, string>> {
  const countries = await client.listStaticCountries();
  return new Map(countries.map((c) => [c.id, c.name ?? c.nameEn ?? c.code ?? c.id]));
}

/** Retryable: sevDesk sent a contact, e-mail or address that fails its schema (usually transient). */
export const MALFORMED_CONTACT_DATA = 'SevdeskMalformedContactData';

/**
 * Every object of a list. A malformed contact, e-mail or address fails the read instead of being skipped:
 * a dropped main e-mail would silently move a contact's invoices to its other address.
 */
async function collect<T>(fetch: (offset: number, limit: number) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  for await (const { page } of walkPages(fetch)) {
    const [bad] = page.invalid;
    if (bad) {
      throw ApplicationFailure.create({
        type: MALFORMED_CONTACT_DATA,
        message: `sevDesk sent ${page.invalid.length} malformed contact record(s), e.g. ${bad.error.message}; not guessing contact data from an incomplete list`,
      });
    }
    out.push(...page.objects);
  }
  return out;
}

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

/** Every contact of the account with its e-mails, phones and addresses: three paged walks. */
export async function fetchAllContacts(
  client: SevdeskClient,
): Promise<{ rows: ContactRow[]; maxUpdate: number | null }> {
  const [contacts, ways, addresses, countries] = await Promise.all([
    collect<Contact>((offset, limit) => client.listContacts({ offset, limit })),
    collect<CommunicationWay>((offset, limit) => client.listCommunicationWays({ offset, limit })),
    collect<ContactAddress>((offset, limit) => client.listContactAddresses({ offset, limit })),
    countryNames(client),
  ]);
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const waysOf = groupByContact(ways);
  const addressesOf = groupByContact(addresses);
  let maxUpdate: number | null = null;
  const rows = contacts.map((contact) => {
    const t = Math.floor(Date.parse(contact.update) / 1000);
    if (maxUpdate === null || t > maxUpdate) maxUpdate = t;
    return toContactRow({
      contact,
      parent: contact.parent ? byId.get(contact.parent.id) : undefined,
      ways: waysOf.get(contact.id) ?? [],
      addresses: addressesOf.get(contact.id) ?? [],
      countries,
    });
  });
  return { rows, maxUpdate };
}

/** A few contacts by id (a contact that vanished is simply left out). */
export async function fetchContacts(client: SevdeskClient, ids: string[]): Promise<ContactRow[]> {
  if (ids.length === 0) return [];
  const countries = await countryNames(client);
  const parents = new Map<string, Promise<Contact | undefined>>();
  const getParent = (id: string) => {
    let p = parents.get(id);
    if (!p) {
      p = client.getContact(id).catch((err: unknown) => {
        if (err instanceof SevdeskNotFoundError) return undefined;
        throw err;
      });
      parents.set(id, p);
    }
    return p;
  };
  const rows = await Promise.all(
    ids.map(async (id) => {
      let contact: Contact;
      try {
        contact = await client.getContact(id);
      } catch (err) {
        if (err instanceof SevdeskNotFoundError) return null;
        throw err;
      }
      const [ways, addresses, parent] = await Promise.all([
        collect<CommunicationWay>((offset, limit) =>
          client.listCommunicationWays({ contactId: id, offset, limit }),
        ),
        collect<ContactAddress>((offset, limit) =>
          client.listContactAddresses({ contactId: id, offset, limit }),
        ),
        contact.parent ? getParent(contact.parent.id) : Promise.resolve(undefined),
      ]);
      return toContactRow({ contact, parent, ways, addresses, countries });
    }),
  );
  return rows.filter((r): r is ContactRow => r !== null);
}

/** Contacts changed since `updateAfter` (unix s): ids and the newest `update` seen. */
export async function changedContactIds(
  client: SevdeskClient,
  updateAfter: number,
): Promise<{ ids: string[]; maxUpdate: number | null }> {
  const contacts = await collect<Contact>((offset, limit) =>
    client.listContacts({ offset, limit, updateAfter }),
  );
  let maxUpdate: number | null = null;
  for (const c of contacts) {
    const t = Math.floor(Date.parse(c.update) / 1000);
    if (maxUpdate === null || t > maxUpdate) maxUpdate = t;
  }
  return { ids: [...new Set(contacts.map((c) => c.id))], maxUpdate };
}
