// Where the live sevDesk API differs from its official OpenAPI spec (test/fixtures/sevdesk/openapi.yaml), in
// one place, each with its source. The conformance tests validate sandbox replies against the spec patched
// with exactly these exceptions (response objects closed: no undeclared fields); nothing else is weakened.

/** A fragment of an OpenAPI 3.0 schema object. */
export type OpenApiSchema = Record<string, unknown>;

interface Documented {
  /**
   * Where the difference is known from, in words: "measured: …" (replies recorded on a live account; the
   * copies are in test/fixtures/sevdesk/real/), "spec: …" or "sevDesk pages: …".
   */
  source: string;
  why: string;
}

export type SpecException = Documented &
  (
    | { kind: 'nullable'; schema: string; properties: readonly string[] }
    | { kind: 'retype'; schema: string; property: string; to: OpenApiSchema }
    | { kind: 'extra'; schema: string; properties: Readonly<Record<string, OpenApiSchema>> }
    | { kind: 'envelope'; operation: string; wrappedIn: 'objects' }
  );

const NULLABLE_STRING: OpenApiSchema = { type: 'string', nullable: true };
const FLAG: OpenApiSchema = { type: 'string', enum: ['0', '1'] };
const STRING_ID: OpenApiSchema = { type: 'string', pattern: '^[0-9]+$' };

/** A reference's id, which arrives as a string like every id. */
const referenceId = (schema: string, property: string): SpecException => ({
  kind: 'retype',
  schema,
  property,
  to: STRING_ID,
  source:
    'measured: every reference recorded on a live account has a string id (jernoxit/sevdesk-rs, TomDixon63/OrderManager2)',
  why: 'A reference is {"id":"<digits>",…}: the id is a string.',
});

export const SPEC_EXCEPTIONS: readonly SpecException[] = [
  // ---- Invoice ----
  {
    kind: 'nullable',
    schema: 'Model_InvoiceResponse',
    properties: [
      'invoiceNumber',
      'header',
      'headText',
      'footText',
      'timeToPay',
      'discountTime',
      'address',
      'payDate',
      'sendDate',
      'enshrined',
      'dunningLevel',
      'reminderTotal',
      'reminderDebit',
      'reminderDeadline',
      'accountIntervall',
      'accountNextInvoice',
      'customerInternalNote',
      'deliveryDateUntil',
      'sendPaymentReceivedNotificationDate',
    ],
    source:
      'measured: every field is present in the invoices recorded on a live test account (jernoxit/sevdesk-rs), null when empty',
    why: 'Scalars are always present and null when empty; a draft has no invoiceNumber, unsent invoices no sendDate.',
  },
  {
    kind: 'retype',
    schema: 'Model_InvoiceResponse',
    property: 'taxType',
    to: { type: 'string', nullable: true },
    source: 'measured: null in every invoice recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'taxType is null under sevdesk-Update 2.0; the spec enum has no null.',
  },
  {
    kind: 'retype',
    schema: 'Model_InvoiceResponse',
    property: 'sendType',
    to: { type: 'string', nullable: true, enum: ['VPR', 'VPDF', 'VM', 'VP', '0', ''] },
    source:
      'measured: "0" on the draft recorded on a live test account (jernoxit/sevdesk-rs); "" and null per the community spec (j-mastr/sevdesk-api)',
    why: 'An unsent draft shows "0" (also "" or null), values the spec enum lacks.',
  },
  {
    kind: 'retype',
    schema: 'Model_InvoiceResponse',
    property: 'smallSettlement',
    to: FLAG,
    source:
      'measured: the strings "0"/"1" in every invoice recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'The spec says boolean; the wire has the strings "0"/"1".',
  },
  {
    kind: 'retype',
    schema: 'Model_InvoiceResponse',
    property: 'showNet',
    to: FLAG,
    source:
      'measured: the strings "0"/"1" in every invoice recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'The spec says boolean; the wire has the strings "0"/"1".',
  },
  {
    kind: 'extra',
    schema: 'Model_InvoiceResponse',
    properties: {
      additionalInformation: NULLABLE_STRING,
      addressName: NULLABLE_STRING,
      addressStreet: NULLABLE_STRING,
      addressZip: NULLABLE_STRING,
      addressCity: NULLABLE_STRING,
      addressParentName: NULLABLE_STRING,
      addressParentName2: NULLABLE_STRING,
      addressName2: NULLABLE_STRING,
      addressGender: NULLABLE_STRING,
      accountLastInvoice: NULLABLE_STRING,
      accountStartDate: NULLABLE_STRING,
      accountEndDate: NULLABLE_STRING,
      einvoiceReference: NULLABLE_STRING,
      sepaMandateReference: NULLABLE_STRING,
      sepaCreditorId: NULLABLE_STRING,
      sepaPayerIban: NULLABLE_STRING,
      sumDiscountNet: { type: 'string' },
      sumDiscountGross: { type: 'string' },
      sumDiscountNetForeignCurrency: { type: 'string' },
      sumDiscountGrossForeignCurrency: { type: 'string' },
    },
    source: 'measured: present in every invoice recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'Present in the live responses but not declared in the response schema.',
  },
  {
    kind: 'extra',
    schema: 'Model_InvoiceResponse',
    properties: { propertyIsEInvoice: {}, propertyUseNewCalculation: {} },
    source: 'measured: in the cancelInvoice reply recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'Flags seen in the live cancelInvoice reply; their wire type is not recorded, so any type is accepted.',
  },
  {
    kind: 'envelope',
    operation: 'cancelInvoice',
    wrappedIn: 'objects',
    source: 'measured: the cancelInvoice reply recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'The spec declares the bare invoice as the 201 body; the live reply is {"objects":{…}}.',
  },

  // ---- Contact ----
  {
    kind: 'nullable',
    schema: 'Model_ContactResponse',
    properties: [
      'additionalInformation',
      'name',
      'surename',
      'familyname',
      'titel',
      'description',
      'academicTitle',
      'gender',
      'name2',
      'birthday',
      'vatNumber',
      'bankAccount',
      'bankNumber',
      'defaultCashbackTime',
      'defaultCashbackPercent',
      'defaultTimeToPay',
      'taxNumber',
      'taxOffice',
      'defaultDiscountAmount',
      'buyerReference',
    ],
    source:
      'measured: the contacts recorded on a live test account (jernoxit/sevdesk-rs) and a production account (TomDixon63/OrderManager2)',
    why: 'name is null for persons, surename/familyname for organisations; the optional fields are null when empty.',
  },
  {
    kind: 'retype',
    schema: 'Model_ContactResponse',
    property: 'sevClient.id',
    to: STRING_ID,
    source:
      'measured: ids are strings in every reply recorded on a live account (jernoxit/sevdesk-rs, TomDixon63/OrderManager2)',
    why: 'The spec says integer; ids arrive as strings.',
  },
  {
    kind: 'extra',
    schema: 'Model_ContactResponse',
    properties: { mandateReference: NULLABLE_STRING, taxType: NULLABLE_STRING, defaultShowVat: FLAG },
    source: 'measured: present in the contacts recorded on a live test account (jernoxit/sevdesk-rs)',
    why: 'Present in the live responses but not declared in the response schema.',
  },

  // ---- CommunicationWay ----
  {
    kind: 'extra',
    schema: 'Model_CommunicationWayResponse',
    properties: { additionalInformation: NULLABLE_STRING },
    source:
      'measured: present in the communication ways recorded on a live test account and a production account',
    why: 'Present in the live responses but not declared in the response schema.',
  },

  // ---- ContactAddress ----
  {
    kind: 'retype',
    schema: 'Model_ContactAddressResponse',
    property: 'id',
    to: STRING_ID,
    source: 'measured: a string in the addresses recorded on a live test account and a production account',
    why: 'Ids arrive as strings.',
  },
  {
    kind: 'retype',
    schema: 'Model_ContactAddressResponse',
    property: 'contact.id',
    to: STRING_ID,
    source: 'measured: a string in the addresses recorded on a live test account and a production account',
    why: 'Ids arrive as strings.',
  },
  referenceId('Model_ContactAddressResponse', 'country.id'),
  referenceId('Model_ContactAddressResponse', 'category.id'),
  referenceId('Model_ContactAddressResponse', 'sevClient.id'),
  {
    kind: 'extra',
    schema: 'Model_ContactAddressResponse',
    properties: { additionalInformation: NULLABLE_STRING },
    source: 'measured: present in the addresses recorded on a live test account and a production account',
    why: 'Present in the live responses but not declared in the response schema.',
  },
];

function isSchema(value: unknown): value is OpenApiSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a dotted property path (`contact.id`) through nested `properties`. */
function propertyParent(schema: OpenApiSchema, path: string): { parent: OpenApiSchema; name: string } {
  const names = path.split('.');
  let current = schema;
  for (const name of names.slice(0, -1)) {
    const props = current.properties;
    const next = isSchema(props) ? props[name] : undefined;
    if (!isSchema(next)) throw new Error(`spec exception: no property ${path}`);
    current = next;
  }
  const props = current.properties;
  const name = names[names.length - 1] ?? '';
  if (!isSchema(props) || !isSchema(props[name])) throw new Error(`spec exception: no property ${path}`);
  return { parent: props, name };
}

/**
 * Returns a copy of the spec's component schemas with the exceptions applied. Throws when an exception
 * no longer matches the spec (a property vanished, or an "extra" field got declared), so the list cannot
 * silently go stale.
 */
export function applySpecExceptions(
  schemas: Readonly<Record<string, unknown>>,
  exceptions: readonly SpecException[] = SPEC_EXCEPTIONS,
): Record<string, OpenApiSchema> {
  const out = structuredClone(schemas) as Record<string, OpenApiSchema>;
  const schemaOf = (name: string): OpenApiSchema => {
    const schema = out[name];
    if (!isSchema(schema)) throw new Error(`spec exception: no schema ${name}`);
    return schema;
  };
  for (const ex of exceptions) {
    switch (ex.kind) {
      case 'nullable':
        for (const property of ex.properties) {
          const { parent, name } = propertyParent(schemaOf(ex.schema), property);
          parent[name] = { ...(parent[name] as OpenApiSchema), nullable: true };
        }
        break;
      case 'retype': {
        const { parent, name } = propertyParent(schemaOf(ex.schema), ex.property);
        const { description } = parent[name] as OpenApiSchema;
        parent[name] = { ...ex.to, ...(description === undefined ? {} : { description }) };
        break;
      }
      case 'extra': {
        const schema = schemaOf(ex.schema);
        const props = isSchema(schema.properties) ? schema.properties : {};
        for (const [name, fragment] of Object.entries(ex.properties)) {
          if (name in props)
            throw new Error(`spec exception: ${ex.schema}.${name} is declared now; drop the exception`);
          props[name] = fragment;
        }
        schema.properties = props;
        break;
      }
      case 'envelope':
        break;
    }
  }
  return out;
}

/** True when the live reply of an operation wraps what the spec declares in `{"objects": …}`. */
export function wrappedInObjects(
  operationId: string,
  exceptions: readonly SpecException[] = SPEC_EXCEPTIONS,
): boolean {
  return exceptions.some((ex) => ex.kind === 'envelope' && ex.operation === operationId);
}
