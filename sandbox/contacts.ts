import { berlinIso, berlinMidnight } from './berlin-time';
import {
  AUSTRIAN_CITIES,
  COMPANY_STEMS,
  COMPANY_TRADES,
  CRAFT_PREFIXES,
  FAMILY_NAMES,
  FEMALE_FIRST_NAMES,
  GERMAN_AREA_CODES,
  GERMAN_CITIES,
  LEGAL_FORMS,
  MALE_FIRST_NAMES,
  MOBILE_PREFIXES,
  OTHER_CITIES,
  PRIVATE_MAIL_DOMAINS,
  STREETS,
  SWISS_CITIES,
  countryByCode,
} from './german-data';
import { Rng, Stream, hash32 } from './random';
import type { CommunicationWay, CommunicationWayType, Contact, ContactAddress, Ref } from './types';

/** Everything the generator decides globally; contacts and invoices are pure functions of this plus an index. */
export interface World {
  seed: number;
  /** Unix seconds: the generated history runs from `from` to `until`. */
  from: number;
  until: number;
  contacts: number;
  invoices: number;
  sevClient: Ref<'SevClient'>;
}

export type ContactKind = 'organisation' | 'person';

/** A contact in the sandbox's own terms; the wire object is built from it. */
export interface ContactData {
  index: number;
  kind: ContactKind;
  parentIndex: number;
  create: number;
  update: number;
  name: string | null;
  surename: string | null;
  familyname: string | null;
  academicTitle: string | null;
  titel: string | null;
  status: Contact['status'];
  customerNumber: string;
  categoryId: string;
  description: string | null;
  vatNumber: string | null;
  bankAccount: string | null;
  taxNumber: string | null;
  defaultTimeToPay: string | null;
  defaultDiscountPercentage: '0' | '1';
  governmentAgency: '0' | '1';
  buyerReference: string | null;
  defaultShowVat: '0' | '1';
  birthday: string | null;
  /** Internal: where e-mails of an organisation (and of its people) live. */
  domain: string;
  countryCode: string;
}

export interface CommWayData {
  slot: number;
  type: CommunicationWayType;
  value: string;
  keyId: string;
  main: boolean;
  create: number;
  update: number;
}

export interface AddressData {
  slot: number;
  street: string | null;
  zip: string | null;
  city: string | null;
  countryId: string;
  categoryId: string | null;
  name: string | null;
  create: number;
  update: number;
}

/** Ids of communication ways and addresses are (contact index × slots + slot): ascending per contact. */
export const COMM_WAY_ID_BASE = 116_000_000;
export const COMM_WAY_SLOTS = 64;
export const ADDRESS_ID_BASE = 121_000_000;
export const ADDRESS_SLOTS = 8;

export function commWayId(contactIndex: number, slot: number): string {
  return String(COMM_WAY_ID_BASE + contactIndex * COMM_WAY_SLOTS + slot);
}

export function addressId(contactIndex: number, slot: number): string {
  return String(ADDRESS_ID_BASE + contactIndex * ADDRESS_SLOTS + slot);
}

const KIND_ORGANISATION = 0;
const KIND_PERSON = 1;
const KIND_MEMBER = 2;

function rawKind(seed: number, index: number): number {
  const r = hash32(seed, Stream.contactStructure, index) / 4294967296;
  if (r < 0.35) return KIND_ORGANISATION;
  return r < 0.78 ? KIND_PERSON : KIND_MEMBER;
}

/** The organisation a person belongs to (an earlier organisation nearby), or -1. */
export function parentIndexOf(seed: number, index: number): number {
  if (rawKind(seed, index) !== KIND_MEMBER) return -1;
  const start = 1 + (hash32(seed, Stream.contactStructure, index, 1) % 12);
  for (let back = start; back < start + 40 && index - back >= 0; back++) {
    if (rawKind(seed, index - back) === KIND_ORGANISATION) return index - back;
  }
  return -1;
}

export function kindOf(seed: number, index: number): ContactKind {
  return rawKind(seed, index) === KIND_ORGANISATION ? 'organisation' : 'person';
}

/** Contacts are created from a little before the first invoice until a week before the end. */
export function contactWindow(world: World): { start: number; end: number } {
  return { start: world.from - 60 * 86400, end: world.until - 7 * 86400 };
}

export function contactCreate(world: World, index: number): number {
  const { start, end } = contactWindow(world);
  const u = index === 0 ? 0 : hash32(world.seed, Stream.contactStructure, index, 2) / 4294967296;
  const at = start + ((end - start) * (index + 0.5 * u)) / world.contacts;
  // Office hours like the invoices: the same Berlin day, squeezed into 07:30–18:00 (still ascending).
  const midnight = berlinMidnight(at);
  return Math.floor(midnight + 27000 + ((at - midnight) / 86400) * 37800);
}

export function contactUpdate(world: World, index: number, create: number): number {
  const r = hash32(world.seed, Stream.contactStructure, index, 3) / 4294967296;
  const { end } = contactWindow(world);
  if (r < 0.6) return create + Math.floor(r * 300);
  return create + Math.floor(((r - 0.6) / 0.4) * Math.max(0, end - create));
}

function countryCodeOf(seed: number, index: number): string {
  const r = hash32(seed, Stream.contactStructure, index, 4) / 4294967296;
  if (r < 0.88) return 'de';
  if (r < 0.93) return 'at';
  if (r < 0.97) return 'ch';
  const others = Object.keys(OTHER_CITIES);
  return others[hash32(seed, Stream.contactStructure, index, 5) % others.length] ?? 'nl';
}

const TRANSLITERATION: Readonly<Record<string, string>> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss', é: 'e' };

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[äöüßé]/g, (ch) => TRANSLITERATION[ch] ?? ch)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function organisationName(rng: Rng): { name: string; domain: string } {
  const form = rng.weighted(LEGAL_FORMS);
  const style = rng.next();
  let base: string;
  let domain: string;
  if (style < 0.6) {
    const stem = rng.pick(COMPANY_STEMS);
    const trade = rng.pick(COMPANY_TRADES);
    base = `${stem} ${trade}`;
    domain = slug(`${stem}-${trade}`);
  } else if (style < 0.85) {
    const family = rng.pick(FAMILY_NAMES);
    base = `${rng.pick(CRAFT_PREFIXES)} ${family}`;
    domain = slug(base);
  } else {
    const a = rng.pick(FAMILY_NAMES);
    const b = rng.pick(FAMILY_NAMES);
    base = `${a} & ${b}`;
    domain = slug(`${a}-${b}`);
  }
  return { name: form ? `${base} ${form}` : base, domain: `${domain}.example` };
}

/** A valid German IBAN (mod-97 check digits), so that clients validating IBANs accept it. */
function germanIban(rng: Rng): string {
  const bban = rng.digits(18);
  let remainder = 0;
  for (const ch of `${bban}131400`) remainder = (remainder * 10 + Number(ch)) % 97;
  const check = String(98 - remainder).padStart(2, '0');
  return `DE${check}${bban}`;
}

/** The base contact at `index`, as generated (before any mutation). */
export function generateContact(world: World, index: number): ContactData {
  const { seed } = world;
  const rng = new Rng(seed, Stream.contactDetail, index);
  const parentIndex = parentIndexOf(seed, index);
  const kind = kindOf(seed, index);
  const create = contactCreate(world, index);
  const update = contactUpdate(world, index, create);
  const countryCode = parentIndex >= 0 ? countryCodeOf(seed, parentIndex) : countryCodeOf(seed, index);
  const data: ContactData = {
    index,
    kind,
    parentIndex,
    create,
    update,
    name: null,
    surename: null,
    familyname: null,
    academicTitle: null,
    titel: null,
    status: rng.weighted([
      ['1000', 85],
      ['100', 10],
      ['500', 5],
    ] as const),
    customerNumber: String(1000 + index),
    categoryId: '3',
    description: null,
    vatNumber: null,
    bankAccount: null,
    taxNumber: null,
    defaultTimeToPay: rng.weighted([
      ['14', 40],
      ['30', 10],
      [null, 50],
    ] as const),
    defaultDiscountPercentage: rng.chance(0.7) ? '1' : '0',
    governmentAgency: '0',
    buyerReference: null,
    defaultShowVat: rng.chance(0.8) ? '1' : '0',
    birthday: null,
    domain: '',
    countryCode,
  };
  if (kind === 'organisation') {
    const { name, domain } = organisationName(rng);
    data.name = name;
    data.domain = domain;
    data.categoryId = rng.weighted([
      ['3', 75],
      ['28', 10],
      ['4', 8],
      ['2', 7],
    ] as const);
    if (rng.chance(0.2)) {
      data.description = rng.pick([
        'Stammkunde seit Jahren',
        'Ansprechpartner Einkauf, Rechnungen bitte per E-Mail',
        'Rahmenvertrag 2024',
        'Zahlt meist pünktlich',
        'Bitte Bestellnummer auf jeder Rechnung angeben',
      ]);
    }
    if (rng.chance(0.5)) {
      data.vatNumber =
        countryCode === 'at'
          ? `ATU${rng.digits(8)}`
          : countryCode === 'ch'
            ? `CHE-${rng.digits(3)}.${rng.digits(3)}.${rng.digits(3)} MWST`
            : `${countryCode.toUpperCase()}${rng.digits(9)}`;
    }
    if (rng.chance(0.1)) data.taxNumber = `${rng.digits(3)}/${rng.digits(3)}/${rng.digits(5)}`;
    if (rng.chance(0.02)) {
      data.governmentAgency = '1';
      data.buyerReference = `0${rng.digits(7)}-${rng.digits(10)}-${rng.digits(2)}`;
    }
  } else {
    const female = rng.chance(0.5);
    data.surename = rng.pick(female ? FEMALE_FIRST_NAMES : MALE_FIRST_NAMES);
    data.familyname = rng.pick(FAMILY_NAMES);
    data.academicTitle = rng.weighted([
      ['Dr.', 8],
      ['Prof. Dr.', 2],
      [null, 90],
    ] as const);
    data.categoryId = rng.chance(0.85) ? '3' : '28';
    if (parentIndex >= 0 && rng.chance(0.25)) {
      data.titel = rng.pick(['Geschäftsführer', 'Einkauf', 'Buchhaltung', 'Projektleitung']);
    }
    if (rng.chance(0.05)) {
      data.birthday = `${rng.range(1950, 2002)}-${String(rng.range(1, 12)).padStart(2, '0')}-${String(rng.range(1, 28)).padStart(2, '0')}`;
    }
    data.domain = rng.pick(PRIVATE_MAIL_DOMAINS);
  }
  if (rng.chance(0.3)) data.bankAccount = germanIban(rng);
  return data;
}

/** The e-mail domain of an organisation, needed for the addresses of its people. */
export function organisationDomain(world: World, index: number): string {
  return generateContact(world, index).domain;
}

function mixCase(value: string): string {
  return value.replace(/(^|[.@-])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

function phoneNumber(rng: Rng, countryCode: string, mobile: boolean): string {
  if (countryCode === 'de') {
    if (mobile) {
      const prefix = rng.pick(MOBILE_PREFIXES);
      return rng.chance(0.6) ? `+49 ${prefix} ${rng.digits(8)}` : `0${prefix} ${rng.digits(8)}`;
    }
    const area = rng.pick(GERMAN_AREA_CODES);
    const style = rng.next();
    if (style < 0.5) return `+49 ${area} ${rng.digits(7)}${rng.chance(0.3) ? '-0' : ''}`;
    if (style < 0.8) return `0${area} ${rng.digits(7)}`;
    return `0${area}/${rng.digits(6)}-${rng.digits(2)}`;
  }
  const dialling: Readonly<Record<string, [string, string, string]>> = {
    at: ['43', '1', '664'],
    ch: ['41', '44', '79'],
    nl: ['31', '20', '6'],
    fr: ['33', '1', '6'],
    it: ['39', '0471', '333'],
    pl: ['48', '22', '601'],
    dk: ['45', '33', '20'],
    us: ['1', '212', '917'],
    gb: ['44', '20', '7700'],
    lu: ['352', '26', '621'],
  };
  const [cc, area, mobilePrefix] = dialling[countryCode] ?? ['49', '30', '151'];
  return `+${cc} ${mobile ? mobilePrefix : area} ${rng.digits(7)}`;
}

export interface CommWayPlan {
  /** none: ~5% without any e-mail; invoiceOnly: just a key-8 e-mail not marked main; noMain: e-mails, none main. */
  email: 'none' | 'invoiceOnly' | 'main' | 'noMain';
  invoiceEmail: boolean;
  extraEmail: boolean;
  phone: boolean;
  mobile: boolean;
  web: boolean;
}

/**
 * Which communication ways a base contact has. Cheap (no strings), so the sandbox can count the ways of
 * every contact to page through /CommunicationWay without generating them all.
 */
export function commWayPlan(seed: number, index: number): CommWayPlan {
  const rng = new Rng(seed, Stream.communication, index);
  const person = kindOf(seed, index) === 'person';
  const member = parentIndexOf(seed, index) >= 0;
  const r = rng.next();
  const email = r < 0.05 ? 'none' : r < 0.07 ? 'invoiceOnly' : r < 0.1 ? 'noMain' : 'main';
  const hasPrimary = email === 'main' || email === 'noMain';
  const invoiceEmail = rng.chance(person ? 0.05 : 0.2) && hasPrimary;
  const extraEmail = rng.chance(0.08) && hasPrimary;
  return {
    email,
    invoiceEmail,
    extraEmail,
    phone: rng.chance(person ? 0.5 : 0.85),
    mobile: rng.chance(member ? 0.5 : person ? 0.45 : 0.1),
    web: rng.chance(0.3) && !person,
  };
}

export function commWayCount(plan: CommWayPlan): number {
  const emails =
    plan.email === 'none' ? 0 : plan.email === 'invoiceOnly' ? 1 : 1 + +plan.invoiceEmail + +plan.extraEmail;
  return emails + +plan.phone + +plan.mobile + +plan.web;
}

/** The base communication ways of a contact (e-mails, phones, mobiles, web), as generated. */
export function generateCommWays(world: World, contact: ContactData): CommWayData[] {
  const plan = commWayPlan(world.seed, contact.index);
  const rng = new Rng(world.seed, Stream.communicationValues, contact.index);
  const ways: CommWayData[] = [];
  const add = (type: CommunicationWayType, value: string, keyId: string, main: boolean): void => {
    const create = contact.create + rng.int(120);
    const update = rng.chance(0.2) ? Math.max(create, contact.update) : create;
    ways.push({ slot: ways.length, type, value, keyId, main, create, update });
  };

  const person = contact.kind === 'person';
  const member = contact.parentIndex >= 0;
  const privatePerson = person && !member;
  const domain = member ? organisationDomain(world, contact.parentIndex) : contact.domain;
  const first = slug(contact.surename ?? '');
  const last = slug(contact.familyname ?? '');
  const personalLocal = (): string =>
    rng.pick([
      `${first}.${last}`,
      `${first}${last}`,
      `${first[0] ?? 'x'}.${last}`,
      `${last}.${first}`,
      `${first}_${last}${rng.range(1, 99)}`,
    ]);

  if (plan.email === 'invoiceOnly') {
    add('EMAIL', privatePerson ? `${last}.rechnung@${domain}` : `rechnung@${domain}`, '8', false);
  } else if (plan.email !== 'none') {
    const local = person
      ? personalLocal()
      : rng.pick(['info', 'kontakt', 'office', 'buchhaltung', 'mail', 'hallo']);
    let value = `${local}@${domain}`;
    if (rng.chance(0.12)) value = mixCase(value);
    if (rng.chance(0.01)) value = ` ${value} `;
    add('EMAIL', value, privatePerson ? '1' : '2', plan.email === 'main');
    if (plan.invoiceEmail) {
      const invoiceDomain = privatePerson ? rng.pick(PRIVATE_MAIL_DOMAINS) : domain;
      const invoiceLocal = privatePerson
        ? `${last}.rechnungen`
        : rng.pick(['rechnung', 'buchhaltung', 'invoice']);
      add('EMAIL', `${invoiceLocal}@${invoiceDomain}`, '8', false);
    }
    if (plan.extraEmail)
      add('EMAIL', `${person ? personalLocal() : 'vertrieb'}@${domain}`, rng.pick(['1', '2', '7']), false);
  }
  if (plan.phone)
    add('PHONE', phoneNumber(rng, contact.countryCode, false), privatePerson ? '1' : '2', rng.chance(0.6));
  if (plan.mobile) add('MOBILE', phoneNumber(rng, contact.countryCode, true), '4', rng.chance(0.5));
  if (plan.web) add('WEB', `https://www.${domain}`, '2', false);
  return ways;
}

const ADDRESS_COUNTS = [
  [0, 3],
  [1, 89],
  [2, 8],
] as const;

/** How many addresses a base contact has (the first draw of its address stream). */
export function addressCount(seed: number, index: number): number {
  return new Rng(seed, Stream.address, index).weighted(ADDRESS_COUNTS);
}

/** The base addresses of a contact, as generated. */
export function generateAddresses(world: World, contact: ContactData): AddressData[] {
  const rng = new Rng(world.seed, Stream.address, contact.index);
  const count = rng.weighted(ADDRESS_COUNTS);
  const addresses: AddressData[] = [];
  const country = countryByCode(contact.countryCode);
  for (let slot = 0; slot < count; slot++) {
    let street: string;
    let zip: string;
    let city: string;
    const houseNumber = `${rng.range(1, 180)}${rng.chance(0.1) ? rng.pick(['a', 'b', 'c']) : ''}`;
    if (contact.countryCode === 'de' || contact.countryCode === 'at' || contact.countryCode === 'ch') {
      const cities =
        contact.countryCode === 'de'
          ? GERMAN_CITIES
          : contact.countryCode === 'at'
            ? AUSTRIAN_CITIES
            : SWISS_CITIES;
      [zip, city] = rng.pick(cities);
      street = `${rng.pick(STREETS)} ${houseNumber}`;
    } else {
      const [z, c, s] = rng.pick(OTHER_CITIES[contact.countryCode] ?? [['1000', 'Brüssel', 'Rue Neuve']]);
      zip = z;
      city = c;
      street =
        contact.countryCode === 'us' || contact.countryCode === 'gb'
          ? `${houseNumber} ${s}`
          : `${s} ${houseNumber}`;
    }
    const create = contact.create + rng.int(120);
    addresses.push({
      slot,
      street,
      zip,
      city,
      countryId: country.id,
      // [GUESS] category 47 was seen in a capture (docs/sevdesk.md, "Contacts, e-mails, addresses"); 48 for a second address is invented.
      categoryId: slot === 0 ? (rng.chance(0.9) ? '47' : null) : '48',
      name: null,
      create,
      update: rng.chance(0.15) ? Math.max(create, contact.update) : create,
    });
  }
  return addresses;
}

export function contactDisplayName(contact: ContactData): string {
  if (contact.kind === 'organisation') return contact.name ?? '';
  return [contact.academicTitle, contact.surename, contact.familyname].filter((p) => p).join(' ');
}

export function contactToWire({
  contact,
  id,
  parentId,
  sevClient,
}: {
  contact: ContactData;
  id: string;
  parentId: string | null;
  sevClient: Ref<'SevClient'>;
}): Contact {
  const wire: Contact = {
    id,
    objectName: 'Contact',
    additionalInformation: null,
    create: berlinIso(contact.create),
    update: berlinIso(contact.update),
    name: contact.name,
    status: contact.status,
    customerNumber: contact.customerNumber,
    surename: contact.surename,
    familyname: contact.familyname,
    titel: contact.titel,
    category: { id: contact.categoryId, objectName: 'Category' },
    description: contact.description,
    academicTitle: contact.academicTitle,
    gender: null,
    sevClient,
    name2: null,
    birthday: contact.birthday,
    vatNumber: contact.vatNumber,
    bankAccount: contact.bankAccount,
    bankNumber: null,
    mandateReference: null,
    defaultCashbackTime: null,
    defaultCashbackPercent: null,
    defaultTimeToPay: contact.defaultTimeToPay,
    taxNumber: contact.taxNumber,
    taxOffice: null,
    exemptVat: '0',
    taxType: null,
    defaultDiscountAmount: null,
    defaultDiscountPercentage: contact.defaultDiscountPercentage,
    buyerReference: contact.buyerReference,
    governmentAgency: contact.governmentAgency,
    defaultShowVat: contact.defaultShowVat,
  };
  // Unset references are left out entirely (docs/sevdesk.md, "Invoices"); the parent sits after customerNumber.
  if (parentId === null) return wire;
  const withParent: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) {
    withParent[key] = value;
    if (key === 'customerNumber') withParent.parent = { id: parentId, objectName: 'Contact' };
  }
  return withParent as unknown as Contact;
}

export function commWayToWire({
  way,
  contactIndex,
  contactId,
  sevClient,
}: {
  way: CommWayData;
  contactIndex: number;
  contactId: string;
  sevClient: Ref<'SevClient'>;
}): CommunicationWay {
  return {
    id: commWayId(contactIndex, way.slot),
    objectName: 'CommunicationWay',
    additionalInformation: null,
    create: berlinIso(way.create),
    update: berlinIso(way.update),
    contact: { id: contactId, objectName: 'Contact' },
    type: way.type,
    value: way.value,
    key: { id: way.keyId, objectName: 'CommunicationWayKey' },
    main: way.main ? '1' : '0',
    sevClient,
  };
}

export function addressToWire({
  address,
  contactIndex,
  contactId,
  sevClient,
}: {
  address: AddressData;
  contactIndex: number;
  contactId: string;
  sevClient: Ref<'SevClient'>;
}): ContactAddress {
  return {
    id: addressId(contactIndex, address.slot),
    objectName: 'ContactAddress',
    additionalInformation: null,
    create: berlinIso(address.create),
    update: berlinIso(address.update),
    contact: { id: contactId, objectName: 'Contact' },
    street: address.street,
    zip: address.zip,
    city: address.city,
    country: { id: address.countryId, objectName: 'StaticCountry' },
    ...(address.categoryId === null ? {} : { category: { id: address.categoryId, objectName: 'Category' } }),
    name: address.name,
    sevClient,
  };
}
