import type { CommunicationWay, Contact, ContactAddress } from '../sevdesk/schema';
import { parseEmail } from './email';
import { sensibleInstant } from './limits';
import { reasonText } from './reasons';
import { cleanText } from './text';

/** The ten CRM fields of a sevDesk contact (docs/sevdesk.md, "Contacts, e-mails, addresses"). Absent = null. */
export interface ContactRow {
  source_id: string;
  email: string | null;
  company: string | null;
  title: string | null;
  first_name: string | null;
  last_name: string | null;
  street: string | null;
  zip: string | null;
  city: string | null;
  country: string | null;
  phone: string | null;
  source_update: string | null;
  /** Set when the contact has e-mail values but none is usable: the reason its invoices stay unassigned. */
  email_issue?: string | null;
  /**
   * Set when the contact (or one of its e-mails or addresses) could not be read: nothing else in the row is
   * trusted, a stored row keeps its data, and the reason is reported.
   */
  read_error?: string | null;
}

/** The match key: the first usable address, trimmed and lower-cased (see domain/email). */
export const normaliseEmail = (value: string | null | undefined): string | null => parseEmail(value).email;

const clean = (value: string | null | undefined): string | null => cleanText(value);

const byId = (a: { id: string }, b: { id: string }) => Number(a.id) - Number(b.id);

/**
 * EMAIL, among the usable addresses: the `main` one, else key 8 "Rechnungsadresse", else the first. When
 * e-mail values exist but none holds a usable address, `issue` says why (the contact has no match key).
 */
export function pickEmailDetailed(ways: CommunicationWay[]): { email: string | null; issue: string | null } {
  const emails = ways
    .filter((w) => w.type === 'EMAIL')
    .map((w) => ({ w, parsed: parseEmail(w.value) }))
    .sort((a, b) => byId(a.w, b.w));
  const usable = emails.filter((e) => e.parsed.email !== null);
  const chosen = usable.find((e) => e.w.main === '1') ?? usable.find((e) => e.w.key?.id === '8') ?? usable[0];
  if (chosen) return { email: chosen.parsed.email, issue: null };
  const issue = emails.find((e) => e.parsed.issue !== null)?.parsed.issue ?? null;
  return { email: null, issue };
}

export function pickEmail(ways: CommunicationWay[]): string | null {
  return pickEmailDetailed(ways).email;
}

/** PHONE (main first), else MOBILE (main first). */
export function pickPhone(ways: CommunicationWay[]): string | null {
  for (const type of ['PHONE', 'MOBILE']) {
    const of = ways.filter((w) => w.type === type && clean(w.value)).sort(byId);
    const chosen = of.find((w) => w.main === '1') ?? of[0];
    if (chosen) return clean(chosen.value);
  }
  return null;
}

export function isPerson(c: Pick<Contact, 'surename' | 'familyname'>): boolean {
  return Boolean(clean(c.surename) || clean(c.familyname));
}

export interface ContactParts {
  contact: Contact;
  /** The person's organisation, if any. */
  parent?: Contact | undefined;
  ways: CommunicationWay[];
  addresses: ContactAddress[];
  /** StaticCountry id -> name. */
  countries: ReadonlyMap<string, string>;
  /** A read problem found by the caller (e.g. an e-mail list that did not load completely). */
  problem?: string | undefined;
}

/** Why a contact's parts cannot be trusted, or null: a malformed e-mail or address means "do not guess". */
export function contactProblem(ways: CommunicationWay[], addresses: ContactAddress[]): string | null {
  const bad = [...ways, ...addresses].find((o) => o.malformed !== undefined);
  if (!bad) return null;
  const what = ways.includes(bad as CommunicationWay) ? 'CommunicationWay' : 'ContactAddress';
  return `${what} ${bad.id} is malformed (${bad.malformed})`;
}

/** The row for a contact that could not be read: only the id and the reason are meaningful. */
export function unreadableContactRow(sourceId: string, reason: string): ContactRow {
  return {
    source_id: sourceId,
    email: null,
    company: null,
    title: null,
    first_name: null,
    last_name: null,
    street: null,
    zip: null,
    city: null,
    country: null,
    phone: null,
    source_update: null,
    email_issue: null,
    read_error: cleanText(reasonText({ code: 'contact-unreadable', detail: reason }), 500),
  };
}

export function toContactRow({
  contact,
  parent,
  ways,
  addresses,
  countries,
  problem,
}: ContactParts): ContactRow {
  const trouble = problem ?? contactProblem(ways, addresses);
  if (trouble) return unreadableContactRow(contact.id, trouble);
  const person = isPerson(contact);
  const address = [...addresses].sort(byId)[0];
  const { email, issue } = pickEmailDetailed(ways);
  const updated = contact.update ? new Date(contact.update) : null;
  return {
    source_id: contact.id,
    email,
    company: person ? clean(parent?.name) : clean(contact.name),
    title: person ? clean(contact.academicTitle) : null,
    first_name: person ? clean(contact.surename) : null,
    last_name: person ? clean(contact.familyname) : null,
    street: clean(address?.street),
    zip: clean(address?.zip),
    city: clean(address?.city),
    country: address?.country ? clean(countries.get(address.country.id)) : null,
    phone: pickPhone(ways),
    source_update: updated && sensibleInstant(updated) ? updated.toISOString() : null,
    email_issue: email === null ? issue : null,
    read_error: null,
  };
}
