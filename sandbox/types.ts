// Wire shapes as the sandbox sends them (docs/sevdesk.md, "Invoices"): ids are strings, money is a decimal string
// (paidAmount a number), flags are "0"/"1", scalars are null when empty, unset references are left out.

export interface Ref<Name extends string = string> {
  id: string;
  objectName: Name;
}

export type InvoiceType = 'RE' | 'WKR' | 'SR' | 'MA' | 'TR' | 'AR' | 'ER';
export type InvoiceStatus = '50' | '100' | '200' | '750' | '1000';

export interface Invoice {
  id: string;
  objectName: 'Invoice';
  additionalInformation: null;
  invoiceNumber: string | null;
  contact: Ref<'Contact'> | Contact;
  create: string;
  update: string;
  sevClient: Ref<'SevClient'>;
  invoiceDate: string;
  header: string | null;
  headText: string | null;
  footText: string | null;
  timeToPay: string | null;
  discountTime: string | null;
  discount: string;
  addressName: string | null;
  addressStreet: string | null;
  addressZip: string | null;
  addressCity: string | null;
  addressCountry: Ref<'StaticCountry'>;
  payDate: string | null;
  createUser: Ref<'SevUser'>;
  deliveryDate: string;
  status: InvoiceStatus;
  smallSettlement: '0' | '1';
  contactPerson: Ref<'SevUser'>;
  taxRate: string;
  taxText: string;
  dunningLevel: string | null;
  addressParentName: string | null;
  taxType: null;
  paymentMethod?: Ref<'PaymentMethod'>;
  costCentre?: Ref<'CostCentre'>;
  taxSet?: Ref<'TaxSet'>;
  sendDate: string | null;
  origin?: Ref<'Invoice'>;
  invoiceType: InvoiceType;
  accountIntervall: string | null;
  accountLastInvoice: string | null;
  accountNextInvoice: string | null;
  reminderTotal: string | null;
  reminderDebit: string | null;
  reminderDeadline: string | null;
  reminderCharge: string;
  addressParentName2: string | null;
  addressName2: string | null;
  addressGender: string | null;
  accountStartDate: string | null;
  accountEndDate: string | null;
  address: string | null;
  currency: string;
  sumNet: string;
  sumTax: string;
  sumGross: string;
  sumDiscounts: string;
  sumNetForeignCurrency: string;
  sumTaxForeignCurrency: string;
  sumGrossForeignCurrency: string;
  sumDiscountsForeignCurrency: string;
  sumNetAccounting: string;
  sumTaxAccounting: string;
  sumGrossAccounting: string;
  paidAmount: number;
  customerInternalNote: string | null;
  einvoiceReference: string | null;
  sepaMandateReference: string | null;
  sepaCreditorId: string | null;
  sepaPayerIban: string | null;
  showNet: '0' | '1';
  enshrined: string | null;
  sendType: string | null;
  deliveryDateUntil: string | null;
  sendPaymentReceivedNotificationDate: string | null;
  sumDiscountNet: string;
  sumDiscountGross: string;
  sumDiscountNetForeignCurrency: string;
  sumDiscountGrossForeignCurrency: string;
  taxRule: Ref<'TaxRule'>;
}

export interface Contact {
  id: string;
  objectName: 'Contact';
  additionalInformation: null;
  create: string;
  update: string;
  name: string | null;
  status: '100' | '500' | '1000';
  customerNumber: string;
  parent?: Ref<'Contact'> | Contact;
  surename: string | null;
  familyname: string | null;
  titel: string | null;
  category: Ref<'Category'>;
  description: string | null;
  academicTitle: string | null;
  gender: string | null;
  sevClient: Ref<'SevClient'>;
  name2: string | null;
  birthday: string | null;
  vatNumber: string | null;
  bankAccount: string | null;
  bankNumber: string | null;
  mandateReference: string | null;
  defaultCashbackTime: string | null;
  defaultCashbackPercent: string | null;
  defaultTimeToPay: string | null;
  taxNumber: string | null;
  taxOffice: string | null;
  exemptVat: '0' | '1';
  taxType: null;
  defaultDiscountAmount: string | null;
  defaultDiscountPercentage: '0' | '1';
  buyerReference: string | null;
  governmentAgency: '0' | '1';
  defaultShowVat: '0' | '1';
}

export type CommunicationWayType = 'EMAIL' | 'PHONE' | 'MOBILE' | 'WEB';

export interface CommunicationWay {
  id: string;
  objectName: 'CommunicationWay';
  additionalInformation: null;
  create: string;
  update: string;
  contact: Ref<'Contact'>;
  type: CommunicationWayType;
  value: string;
  key: Ref<'CommunicationWayKey'>;
  main: '0' | '1';
  sevClient: Ref<'SevClient'>;
}

export interface ContactAddress {
  id: string;
  objectName: 'ContactAddress';
  additionalInformation: null;
  create: string;
  update: string;
  contact: Ref<'Contact'>;
  street: string | null;
  zip: string | null;
  city: string | null;
  country: Ref<'StaticCountry'>;
  /** Left out when unset, like every unset reference (docs/sevdesk.md, "Invoices"). */
  category?: Ref<'Category'>;
  name: string | null;
  sevClient: Ref<'SevClient'>;
}

export interface StaticCountry {
  id: string;
  objectName: 'StaticCountry';
  code: string;
  name: string;
  nameEn: string;
  translationCode: string;
  locale: string;
  priority: string;
}

export interface CommunicationWayKey {
  id: string;
  objectName: 'CommunicationWayKey';
  create: string;
  update: string;
  name: string;
  translationCode: string;
}
