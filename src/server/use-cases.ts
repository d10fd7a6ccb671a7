// The shapes the server returns (the CLI's `--json` shapes, docs/cli.md) and what it needs from the
// application layer. The server never talks to the database or Temporal itself.
import type { AccountPage, CustomerHistory, CustomerView, GlobalPage, InvoiceView } from '../app';
import type { ErrorInfo } from '../shared';
import type { WebhookUseCases } from './webhooks-api';

export type StatusJson = {
  account: string;
  active: boolean;
  state: 'idle' | 'syncing' | 'paused' | 'error';
  error: ErrorInfo | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  counts: { customers: number; invoices: number; unassigned: number; invalid?: number };
  unassigned: { invoiceNumber: string | null; sourceId: string; reason: string }[];
  conflicts: { invoiceNumber: string; sources: string[] }[];
  invalid?: { invoiceNumber?: string | null; sourceId: string; reason: string }[];
  import: { state: string; done: number; total: number | null } | null;
  heldSweep?: { importId: string; count: number; total: number; heldAt: string } | null;
};

/** An invoice of `customers --json`; `foreignAmount`/`foreignCurrency` extend the original contract. */
export type InvoiceJson = Omit<InvoiceView, ForeignFields> & Partial<Pick<InvoiceView, ForeignFields>>;
type ForeignFields = 'foreignAmount' | 'foreignCurrency';

/** A customer of `customers --json`: the application's view of it. */
export type CustomerJson = Omit<CustomerView, 'invoices'> & { invoices: InvoiceJson[] };

export type ImportStartedJson = {
  importId: string;
  workflowId: string;
  state: string;
  done: number;
  total: number | null;
  dryRun: boolean;
};

export type SyncCountsJson = {
  pages: number;
  fetched: number;
  written: number;
  unassigned: number;
  invalid: number;
};

/** A failure the caller can act on, as the application layer classified it. */
export interface CallerError {
  status: number;
  type: string;
  message: string;
}

/** The application's use cases, bound to their dependencies (see app-binding.ts). */
export interface UseCases {
  addInterface(input: {
    accountId: string;
    token: string;
    intervalSeconds?: number | undefined;
    amountBasis?: 'gross' | 'net' | undefined;
    inactive?: boolean | undefined;
  }): Promise<void>;
  setInterfaceActive(accountId: string, active: boolean): Promise<void>;
  updateInterfaceSettings(input: {
    accountId: string;
    token?: string | undefined;
    intervalSeconds?: number | undefined;
    amountBasis?: 'gross' | 'net' | undefined;
  }): Promise<void>;
  removeInterface(accountId: string, purge: boolean): Promise<void>;
  syncNow(accountId: string, wait: boolean): Promise<SyncCountsJson | null>;
  startImport(accountId: string, opts: { dryRun: boolean }): Promise<ImportStartedJson>;
  /** Follows an import or reconcile until it ends; its final figures. */
  followImport(workflowId: string): Promise<Record<string, unknown>>;
  startReconcile(accountId: string): Promise<ImportStartedJson>;
  confirmReconcile(accountId: string): Promise<{ deleted: number }>;
  getStatus(accountId: string): Promise<StatusJson>;
  getCustomers(accountId: string): Promise<CustomerJson[]>;
  getAccountEvents(accountId: string, page: { after: number; limit: number }): Promise<AccountPage>;
  getGlobalEvents(page: { after?: string | undefined; limit: number }): Promise<GlobalPage>;
  getCustomerHistory(accountId: string, email: string): Promise<CustomerHistory>;
  /** The webhook endpoints (absent: the routes are not served). */
  webhooks?: WebhookUseCases;
  /** undefined: not a caller's error (answered 500 without details). */
  classify(err: unknown): CallerError | undefined;
  close(): Promise<void>;
}
