// The server's use cases are the application layer's (src/app), bound to one set of dependencies.
import type { AppDeps } from '../app';
import {
  addInterface,
  confirmReconcile,
  followImport,
  getAccountEvents,
  getCustomerHistory,
  getCustomer,
  getCustomers,
  getCustomersPage,
  getGlobalEvents,
  getHistory,
  getStatus,
  getStatusPage,
  getUnassignedByContact,
  httpStatusOf,
  isAppError,
  removeInterface,
  requestSync,
  setInterfaceActive,
  startImport,
  startReconcile,
  syncNow,
  syncNowWithin,
  syncSince,
  updateInterfaceSettings,
  walkWithin,
} from '../app';
import { searchCustomers } from '../app/customer-search';
import {
  createSession,
  createSignInLink,
  endSession,
  getSession,
  recordAudit,
  redeemLink,
} from '../app/sessions';
import type { SessionUseCases } from './sessions';
import type { UseCases } from './use-cases';
import { bindWebhookUseCases } from './webhooks-api';

const started = <T extends { alreadyRunning?: boolean }>({ alreadyRunning: _a, ...rest }: T) => rest;

export function bindUseCases(deps: AppDeps): UseCases {
  return {
    addInterface: async (input) => {
      await addInterface(deps, input);
    },
    setInterfaceActive: (accountId, active) => setInterfaceActive(deps, accountId, active),
    updateInterfaceSettings: (input) => updateInterfaceSettings(deps, input),
    removeInterface: (accountId, purge) => removeInterface(deps, accountId, purge),
    syncNow: (accountId, wait) => syncNow(deps, accountId, wait),
    requestSync: (accountId) => requestSync(deps, accountId),
    getHistory: (accountId, limit) => getHistory(deps, accountId, limit),
    getUnassignedByContact: (accountId) => getUnassignedByContact(deps, accountId),
    startImport: async (accountId, opts) => started(await startImport(deps, accountId, opts)),
    followImport: async (workflowId) => {
      const { tailIds: _tail, ...figures } = await followImport(deps, workflowId, () => {});
      return figures;
    },
    startReconcile: async (accountId) => started(await startReconcile(deps, accountId)),
    confirmReconcile: (accountId) => confirmReconcile(deps, accountId),
    getStatus: async (accountId) => {
      const { live: _live, ...status } = await getStatus(deps, accountId);
      return status;
    },
    getCustomers: (accountId) => getCustomers(deps, accountId),
    getStatusPage: async (accountId, page) => {
      const { live: _live, ...status } = await getStatusPage(deps, accountId, page);
      return status;
    },
    getCustomersPage: (accountId, page) => getCustomersPage(deps, accountId, page),
    getCustomer: (accountId, email) => getCustomer(deps, accountId, email),
    searchCustomers: (accountId, req) => searchCustomers(deps, accountId, req),
    syncNowWithin: async (accountId, waitMs) => {
      const { syncId, counts } = await syncNowWithin(deps, accountId, waitMs);
      return { syncId, counts };
    },
    getSync: async (accountId, syncId, waitMs) => {
      const { counts } = await syncSince(deps, accountId, syncId, waitMs);
      return { syncId, counts };
    },
    followImportWithin: async (accountId, importId, waitMs) => {
      const { stats, progress, ...walk } = await walkWithin(deps, accountId, importId, waitMs);
      const { tailIds: _tail, ...figures } = stats ?? {};
      return {
        ...walk,
        figures: stats ? figures : null,
        progress: progress && { state: progress.state, done: progress.done, total: progress.total },
      };
    },
    getAccountEvents: (accountId, page) => getAccountEvents(deps, accountId, page),
    getGlobalEvents: (page) => getGlobalEvents(deps, page),
    getCustomerHistory: (accountId, email) => getCustomerHistory(deps, accountId, email),
    webhooks: bindWebhookUseCases(deps),
    sessions: bindSessionUseCases(deps),
    classify: (err) =>
      isAppError(err) ? { status: httpStatusOf(err.type), type: err.type, message: err.message } : undefined,
    close: () => deps.close(),
  };
}

function bindSessionUseCases(deps: AppDeps): SessionUseCases {
  return {
    create: async (account, subject) => (await createSession(deps, { account, subject })).id,
    get: (id) => getSession(deps, id),
    end: (id) => endSession(deps, id),
    createLink: (account, next) => createSignInLink(deps, { account, next }),
    redeemLink: (code) => redeemLink(deps, code),
    audit: (entry) => recordAudit(deps, entry),
  };
}
