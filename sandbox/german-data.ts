// Word lists for realistic German business data. E-mail and web domains use the reserved `.example` TLD
// (RFC 2606) so that generated addresses can never reach a real mailbox.

// prettier-ignore
export const MALE_FIRST_NAMES = [
  'Alexander', 'Andreas', 'Benjamin', 'Christian', 'Daniel', 'David', 'Dennis', 'Dirk', 'Elias', 'Felix',
  'Florian', 'Frank', 'Hans', 'Jan', 'Jens', 'Jonas', 'Jörg', 'Jürgen', 'Kai', 'Klaus', 'Lars', 'Leon',
  'Lukas', 'Marcel', 'Markus', 'Martin', 'Matthias', 'Max', 'Michael', 'Niklas', 'Oliver', 'Patrick',
  'Paul', 'Peter', 'Ralf', 'Sebastian', 'Stefan', 'Sven', 'Thomas', 'Tim', 'Tobias', 'Uwe', 'Wolfgang',
] as const;

// prettier-ignore
export const FEMALE_FIRST_NAMES = [
  'Andrea', 'Angelika', 'Anja', 'Anna', 'Birgit', 'Carina', 'Christina', 'Claudia', 'Daniela', 'Emilia',
  'Emma', 'Erika', 'Franziska', 'Gabriele', 'Hannah', 'Heike', 'Ines', 'Jana', 'Julia', 'Katharina',
  'Kerstin', 'Laura', 'Lea', 'Lena', 'Maria', 'Marie', 'Melanie', 'Mia', 'Monika', 'Nadine', 'Nicole',
  'Petra', 'Sabine', 'Sandra', 'Sarah', 'Silke', 'Sophie', 'Stefanie', 'Susanne', 'Tanja', 'Ursula',
] as const;

// prettier-ignore
export const FAMILY_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann',
  'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann',
  'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Schmitz', 'Krause', 'Meier',
  'Lehmann', 'Schmid', 'Schulze', 'Maier', 'Köhler', 'Herrmann', 'König', 'Walter', 'Mayer', 'Huber',
  'Kaiser', 'Fuchs', 'Peters', 'Lang', 'Scholz', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Schubert', 'Vogel',
  'Friedrich', 'Keller', 'Günther', 'Frank', 'Berger', 'Winkler', 'Roth', 'Beck', 'Lorenz', 'Baumann',
  'Franke', 'Albrecht', 'Schuster', 'Simon', 'Ludwig', 'Böhm', 'Winter', 'Kraus', 'Martin', 'Krämer',
  'Vogt', 'Stein', 'Jäger', 'Otto', 'Sommer', 'Groß', 'Seidel', 'Heinrich', 'Brandt', 'Haas', 'Schreiber',
] as const;

/** Trades and fantasy words that make up company names ("Nordlicht Medien GmbH", "Schreinerei Huber e.K."). */
// prettier-ignore
export const COMPANY_STEMS = [
  'Nordlicht', 'Alpenblick', 'Rheintal', 'Elbufer', 'Sonnenhof', 'Lindenhof', 'Bergwerk', 'Weitblick',
  'Eichenlaub', 'Isarwerk', 'Mainkai', 'Hafenkante', 'Morgenrot', 'Blauwal', 'Kupferkessel', 'Feldmark',
  'Waldrand', 'Brückenbau', 'Musterbau', 'Taunus', 'Spreewerk', 'Ostsee', 'Neckar', 'Schwarzwald',
] as const;

// prettier-ignore
export const COMPANY_TRADES = [
  'Medien', 'Consulting', 'Software', 'Logistik', 'Bau', 'Immobilien', 'Elektrotechnik', 'Haustechnik',
  'Gastronomie', 'Handel', 'Design', 'Marketing', 'Personalberatung', 'Steuerberatung', 'Maschinenbau',
  'Druck', 'Reisen', 'Energie', 'Systeme', 'Dienstleistungen', 'Metallbau', 'Gartenbau',
] as const;

// prettier-ignore
export const CRAFT_PREFIXES = [
  'Schreinerei', 'Bäckerei', 'Malerbetrieb', 'Autohaus', 'Friseursalon', 'Ingenieurbüro', 'Praxis',
  'Kanzlei', 'Fahrschule', 'Gärtnerei', 'Dachdeckerei', 'Metzgerei', 'Buchhandlung', 'Optik',
] as const;

export const LEGAL_FORMS: readonly (readonly [string, number])[] = [
  ['GmbH', 45],
  ['UG (haftungsbeschränkt)', 10],
  ['e.K.', 10],
  ['GbR', 8],
  ['GmbH & Co. KG', 8],
  ['AG', 3],
  ['KG', 4],
  ['OHG', 3],
  ['', 9],
];

// prettier-ignore
export const STREETS = [
  'Hauptstraße', 'Schulstraße', 'Gartenstraße', 'Bahnhofstraße', 'Dorfstraße', 'Bergstraße', 'Lindenweg',
  'Birkenweg', 'Industriestraße', 'Kirchstraße', 'Waldstraße', 'Ringstraße', 'Schillerstraße',
  'Goethestraße', 'Mühlenweg', 'Am Markt', 'Friedrichstraße', 'Poststraße', 'Rosenstraße', 'Feldstraße',
  'Wiesenweg', 'Jahnstraße', 'Mozartstraße', 'Parkstraße', 'Am Hafen', 'Kastanienallee', 'Marktplatz',
  'Königsallee', 'Lessingstraße', 'Sonnenstraße', 'Talstraße', 'Gewerbepark', 'Im Technologiepark',
] as const;

/** [zip, city] pairs with real postcode areas. */
// prettier-ignore
export const GERMAN_CITIES: readonly (readonly [string, string])[] = [
  ['10115', 'Berlin'], ['10827', 'Berlin'], ['12043', 'Berlin'], ['20095', 'Hamburg'], ['22767', 'Hamburg'],
  ['80331', 'München'], ['81667', 'München'], ['50667', 'Köln'], ['60311', 'Frankfurt am Main'],
  ['70173', 'Stuttgart'], ['40213', 'Düsseldorf'], ['44135', 'Dortmund'], ['45127', 'Essen'],
  ['04109', 'Leipzig'], ['28195', 'Bremen'], ['01067', 'Dresden'], ['30159', 'Hannover'],
  ['90402', 'Nürnberg'], ['47051', 'Duisburg'], ['44787', 'Bochum'], ['42103', 'Wuppertal'],
  ['33602', 'Bielefeld'], ['53111', 'Bonn'], ['48143', 'Münster'], ['76133', 'Karlsruhe'],
  ['68159', 'Mannheim'], ['86150', 'Augsburg'], ['65183', 'Wiesbaden'], ['41061', 'Mönchengladbach'],
  ['38100', 'Braunschweig'], ['24103', 'Kiel'], ['09111', 'Chemnitz'], ['06108', 'Halle (Saale)'],
  ['39104', 'Magdeburg'], ['79098', 'Freiburg im Breisgau'], ['23552', 'Lübeck'], ['99084', 'Erfurt'],
  ['18055', 'Rostock'], ['55116', 'Mainz'], ['34117', 'Kassel'], ['93047', 'Regensburg'],
  ['97070', 'Würzburg'], ['89073', 'Ulm'], ['14467', 'Potsdam'], ['83022', 'Rosenheim'],
  ['87435', 'Kempten (Allgäu)'], ['26122', 'Oldenburg'], ['49074', 'Osnabrück'], ['54290', 'Trier'],
];

// prettier-ignore
export const AUSTRIAN_CITIES: readonly (readonly [string, string])[] = [
  ['1010', 'Wien'], ['1070', 'Wien'], ['8010', 'Graz'], ['4020', 'Linz'], ['5020', 'Salzburg'],
  ['6020', 'Innsbruck'], ['9020', 'Klagenfurt'], ['6900', 'Bregenz'],
];

// prettier-ignore
export const SWISS_CITIES: readonly (readonly [string, string])[] = [
  ['8001', 'Zürich'], ['3011', 'Bern'], ['4051', 'Basel'], ['6003', 'Luzern'], ['9000', 'St. Gallen'],
  ['8400', 'Winterthur'], ['1201', 'Genf'],
];

/** A few addresses abroad beyond DACH, keyed by country code. */
// prettier-ignore
export const OTHER_CITIES: Readonly<Record<string, readonly (readonly [string, string, string])[]>> = {
  nl: [['1012 AB', 'Amsterdam', 'Damrak']],
  fr: [['75001', 'Paris', 'Rue de Rivoli']],
  it: [['39100', 'Bozen', 'Via Museo']],
  pl: [['00-001', 'Warschau', 'ul. Marszałkowska']],
  dk: [['1050', 'Kopenhagen', 'Kongens Nytorv']],
  us: [['10001', 'New York', 'Broadway']],
  gb: [['EC1A 1BB', 'London', 'King Street']],
  lu: [['1111', 'Luxemburg', 'Rue du Marché']],
};

// prettier-ignore
export const PRIVATE_MAIL_DOMAINS = [
  'web.example', 'gmx.example', 't-online.example', 'posteo.example', 'mailbox.example', 'freenet.example',
] as const;

// prettier-ignore
export const GERMAN_AREA_CODES = [
  '30', '40', '89', '221', '69', '711', '211', '231', '201', '341', '421', '351', '511', '911', '228', '761',
] as const;

export const MOBILE_PREFIXES = [
  '151',
  '152',
  '160',
  '162',
  '170',
  '171',
  '172',
  '175',
  '176',
  '177',
  '179',
] as const;

export const PAYMENT_NOTES = [
  'PO-',
  'Bestellung ',
  'Auftrag ',
  'Ihre Bestellnr. ',
  'Webshop-Bestellung ',
] as const;

export interface CountryInfo {
  id: string;
  code: string;
  name: string;
  nameEn: string;
  locale: string;
  priority: string;
  /** Internal: decides the tax rule of invoices to this country. */
  eu: boolean;
  /** Internal: the currency foreign invoices to this country use. */
  currency: string;
}

// [GUESS] sevDesk's StaticCountry ids other than "1" = Deutschland are not documented; these are invented.
// prettier-ignore
export const COUNTRIES: readonly CountryInfo[] = (
  [
    ['de', 'Deutschland', 'Germany', 'de_DE', true, 'EUR'],
    ['at', 'Österreich', 'Austria', 'de_AT', true, 'EUR'],
    ['ch', 'Schweiz', 'Switzerland', 'de_CH', false, 'CHF'],
    ['nl', 'Niederlande', 'Netherlands', 'nl_NL', true, 'EUR'],
    ['be', 'Belgien', 'Belgium', 'nl_BE', true, 'EUR'],
    ['lu', 'Luxemburg', 'Luxembourg', 'fr_LU', true, 'EUR'],
    ['fr', 'Frankreich', 'France', 'fr_FR', true, 'EUR'],
    ['it', 'Italien', 'Italy', 'it_IT', true, 'EUR'],
    ['es', 'Spanien', 'Spain', 'es_ES', true, 'EUR'],
    ['pt', 'Portugal', 'Portugal', 'pt_PT', true, 'EUR'],
    ['pl', 'Polen', 'Poland', 'pl_PL', true, 'EUR'],
    ['cz', 'Tschechien', 'Czech Republic', 'cs_CZ', true, 'EUR'],
    ['dk', 'Dänemark', 'Denmark', 'da_DK', true, 'EUR'],
    ['se', 'Schweden', 'Sweden', 'sv_SE', true, 'EUR'],
    ['no', 'Norwegen', 'Norway', 'nb_NO', false, 'EUR'],
    ['fi', 'Finnland', 'Finland', 'fi_FI', true, 'EUR'],
    ['ie', 'Irland', 'Ireland', 'en_IE', true, 'EUR'],
    ['gb', 'Vereinigtes Königreich', 'United Kingdom', 'en_GB', false, 'GBP'],
    ['us', 'Vereinigte Staaten', 'United States', 'en_US', false, 'USD'],
    ['ca', 'Kanada', 'Canada', 'en_CA', false, 'USD'],
    ['hu', 'Ungarn', 'Hungary', 'hu_HU', true, 'EUR'],
    ['sk', 'Slowakei', 'Slovakia', 'sk_SK', true, 'EUR'],
    ['si', 'Slowenien', 'Slovenia', 'sl_SI', true, 'EUR'],
    ['hr', 'Kroatien', 'Croatia', 'hr_HR', true, 'EUR'],
    ['ro', 'Rumänien', 'Romania', 'ro_RO', true, 'EUR'],
    ['bg', 'Bulgarien', 'Bulgaria', 'bg_BG', true, 'EUR'],
    ['gr', 'Griechenland', 'Greece', 'el_GR', true, 'EUR'],
    ['li', 'Liechtenstein', 'Liechtenstein', 'de_LI', false, 'CHF'],
    ['ee', 'Estland', 'Estonia', 'et_EE', true, 'EUR'],
    ['lv', 'Lettland', 'Latvia', 'lv_LV', true, 'EUR'],
    ['lt', 'Litauen', 'Lithuania', 'lt_LT', true, 'EUR'],
    ['mt', 'Malta', 'Malta', 'mt_MT', true, 'EUR'],
    ['cy', 'Zypern', 'Cyprus', 'el_CY', true, 'EUR'],
    ['tr', 'Türkei', 'Turkey', 'tr_TR', false, 'EUR'],
    ['jp', 'Japan', 'Japan', 'ja_JP', false, 'USD'],
    ['au', 'Australien', 'Australia', 'en_AU', false, 'USD'],
  ] as const
).map(([code, name, nameEn, locale, eu, currency], i) => ({
  id: String(i + 1),
  code,
  name,
  nameEn,
  locale,
  // [GUESS] priority: the DACH countries first, like a German account's country picker.
  priority: i < 3 ? String(i + 1) : '100',
  eu,
  currency,
}));

export function countryByCode(code: string): CountryInfo {
  const country = COUNTRIES.find((c) => c.code === code);
  if (!country) throw new Error(`unknown country code ${code}`);
  return country;
}

export function countryById(id: string): CountryInfo | undefined {
  return COUNTRIES.find((c) => c.id === id);
}

/** Foreign currency per EUR, fixed so that generated amounts are reproducible. */
export const EXCHANGE_RATES: Readonly<Record<string, number>> = { CHF: 0.94, USD: 1.08, GBP: 0.85 };

export const COMMUNICATION_WAY_KEYS = [
  ['1', 'Privat', 'COMM_WAY_KEY_PRIVAT'],
  ['2', 'Arbeit', 'COMM_WAY_KEY_WORK'],
  ['3', 'Fax', 'COMM_WAY_KEY_FAX'],
  ['4', 'Mobil', 'COMM_WAY_KEY_MOBILE'],
  ['5', ' ', 'COMM_WAY_KEY_NOTHING'],
  ['6', 'Autobox', 'COMM_WAY_KEY_AUTOBOX'],
  ['7', 'Newsletter', 'COMM_WAY_KEY_NEWSLETTER'],
  ['8', 'Rechnungsadresse', 'COMM_WAY_KEY_INVOICE'],
] as const;
