// The sevDesk sandbox: an HTTP server that behaves like the sevDesk API v1 as described in docs/sevdesk.md,
// over lazily generated, seed-deterministic German business data.
export { startSandbox, type Sandbox, type SandboxOptions } from './server';
export {
  SandboxStore,
  type AddContactInput,
  type AddInvoiceInput,
  type AddressInput,
  type ContactPatch,
  type GenerateOptions,
  type StoreOptions,
} from './store';
export { SandboxError, errorEnvelope, type ErrorEnvelope } from './errors';
export { FaultInjector, FAULT_KINDS, type FaultKind, type FaultSpec } from './faults';
export { RequestLog, type RequestLogEntry } from './request-log';
export type {
  CommunicationWay,
  CommunicationWayKey,
  Contact,
  ContactAddress,
  Invoice,
  InvoiceStatus,
  InvoiceType,
  Ref,
  StaticCountry,
} from './types';
