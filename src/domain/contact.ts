import type { CommunicationWay, Contact, ContactAddress } from '../sevdesk/schema';

/** The ten CRM fields of a sevDesk contact (DESIGN: contact fields transferred). Absent = null. */
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
}

export const normaliseEmail = (value: string | null | undefined): string | null => {
  const v = value?.trim().toLowerCase();
  return v ? v : null;
};

const clean = (value: string | null | undefined): string | null => {
  const v = value?.trim();
  return v ? v : null;
};

const byId = (a: { id: string }, b: { id: string }) => Number(a.id) - Number(b.id);

/** EMAIL: the `main` one, else key 8 "Rechnungsadresse", else the first. */
export function pickEmail(ways: CommunicationWay[]): string | null {
  const emails = ways.filter((w) => w.type === 'EMAIL' && normaliseEmail(w.value)).sort(byId);
  const chosen = emails.find((w) => w.main === '1') ?? emails.find((w) => w.key?.id === '8') ?? emails[0];
  return normaliseEmail(chosen?.value);
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
}

export function toContactRow({ contact, parent, ways, addresses, countries }: ContactParts): ContactRow {
  const person = isPerson(contact);
  const address = [...addresses].sort(byId)[0];
  return {
    source_id: contact.id,
    email: pickEmail(ways),
    company: person ? clean(parent?.name) : clean(contact.name),
    title: person ? clean(contact.academicTitle) : null,
    first_name: person ? clean(contact.surename) : null,
    last_name: person ? clean(contact.familyname) : null,
    street: clean(address?.street),
    zip: clean(address?.zip),
    city: clean(address?.city),
    country: address?.country ? (countries.get(address.country.id) ?? null) : null,
    phone: pickPhone(ways),
    source_update: contact.update ? new Date(contact.update).toISOString() : null,
  };
}
