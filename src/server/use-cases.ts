// The shapes the server returns (the CLI's `--json` shapes, docs/cli.md) and what it needs from the
// application layer. The server never talks to the database or Temporal itself.
import type {
  AccountPage,
  CustomerHistory,
  CustomerView,
  GlobalPage,
  InvoiceView,
  PageRequest,
  RunView,
} from '../app';
import type { CustomerSearchRequest, CustomerSearchResult } from '../app/customer-search';
import type { ErrorInfo } from '../shared';
import type { SessionUseCases } from './sessions';
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
  /** The completeness receipt of the last import or reconcile walk; null before the first ended. */
  receipt?: ReceiptJson | null;
};

export type ReceiptJson = {
  sevdesk: number | null;
  assigned: number;
  unassigned: number;
  invalid: number;
  stornos?: number;
  at: string;
};

/** A run of the settings page's "Verlauf" (GET history): a sync cycle or a walk. */
export type RunJson = RunView;

/** The unassigned invoices of one sevDesk contact. */
export type UnassignedContactJson = {
  contactId: string | null;
  name: string | null;
  reason: string;
  invoices: number;
  sum: string;
  currency: string;
  numbers: { invoiceNumber: string | null; sourceId: string }[];
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

/** A sync someone waits for: its id, and its counts once it has run (null: still running). */
export type SyncOutcomeJson = { syncId: string; counts: SyncCountsJson | null };

/** An import or reconcile walk someone waits for: its final figures, or (still running) its progress. */
export type WalkOutcomeJson = {
  importId: string;
  workflowId: string;
  dryRun: boolean;
  figures: Record<string, unknown> | null;
  progress: { state: string; done: number; total: number | null } | null;
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
  /** The page's "Jetzt synchronisieren": refused (requested false) within the cooldown after the last ask. */
  requestSync(
    accountId: string,
  ): Promise<{ requested: true } | { requested: false; retryAfterSeconds: number }>;
  /** The last syncs and walks, newest first (limit 1..100, default 20). */
  getHistory(accountId: string, limit?: number): Promise<{ runs: RunJson[] }>;
  /** The unassigned invoices grouped by sevDesk contact, the biggest sum first. */
  getUnassignedByContact(accountId: string): Promise<UnassignedContactJson[]>;
  startImport(accountId: string, opts: { dryRun: boolean }): Promise<ImportStartedJson>;
  /** Follows an import or reconcile until it ends; its final figures. */
  followImport(workflowId: string): Promise<Record<string, unknown>>;
  startReconcile(accountId: string): Promise<ImportStartedJson>;
  confirmReconcile(accountId: string): Promise<{ deleted: number }>;
  getStatus(accountId: string): Promise<StatusJson>;
  getCustomers(accountId: string): Promise<CustomerJson[]>;
  /** The status with its lists paged: at most `limit` entries of each after `cursor`; `next` or null. */
  getStatusPage(accountId: string, page: PageRequest): Promise<StatusJson & { next: string | null }>;
  /** The customers a page at a time: at most `limit` after `cursor`; `next` or null after the last. */
  getCustomersPage(
    accountId: string,
    page: PageRequest,
  ): Promise<{ customers: CustomerJson[]; next: string | null }>;
  /** One customer by e-mail (any case), with its values and invoices. */
  getCustomer(accountId: string, email: string): Promise<CustomerJson>;
  /** The customers matching `q` (name or e-mail), sorted by value or name, a page at a time both ways. */
  searchCustomers(accountId: string, req: CustomerSearchRequest): Promise<CustomerSearchResult>;
  /** sync-now that waits at most `waitMs`: its counts, or null counts and the id to ask again by. */
  syncNowWithin(accountId: string, waitMs: number): Promise<SyncOutcomeJson>;
  /** A sync `syncNowWithin` answered without counts: waits at most `waitMs` for them. */
  getSync(accountId: string, syncId: string, waitMs: number): Promise<SyncOutcomeJson>;
  /** Waits at most `waitMs` for an import or reconcile walk of the account to end. */
  followImportWithin(accountId: string, importId: string, waitMs: number): Promise<WalkOutcomeJson>;
  getAccountEvents(accountId: string, page: { after: number; limit: number }): Promise<AccountPage>;
  getGlobalEvents(page: { after?: string | undefined; limit: number }): Promise<GlobalPage>;
  getCustomerHistory(accountId: string, email: string): Promise<CustomerHistory>;
  /** Sessions, sign-in links and the audit log (PostgreSQL: shared by every replica). */
  sessions?: SessionUseCases;
  /** The webhook endpoints (absent: the routes are not served). */
  webhooks?: WebhookUseCases;
  /** undefined: not a caller's error (answered 500 without details). */
  classify(err: unknown): CallerError | undefined;
  close(): Promise<void>;
}
