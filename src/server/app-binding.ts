// The server's use cases are the application layer's (src/app), bound to one set of dependencies.
import type { AppDeps } from '../app';
import {
  addInterface,
  confirmReconcile,
  followImport,
  getAccountEvents,
  getCustomerHistory,
  getCustomers,
  getGlobalEvents,
  getStatus,
  httpStatusOf,
  isAppError,
  removeInterface,
  setInterfaceActive,
  startImport,
  startReconcile,
  syncNow,
  updateInterfaceSettings,
} from '../app';
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
    getAccountEvents: (accountId, page) => getAccountEvents(deps, accountId, page),
    getGlobalEvents: (page) => getGlobalEvents(deps, page),
    getCustomerHistory: (accountId, email) => getCustomerHistory(deps, accountId, email),
    webhooks: bindWebhookUseCases(deps),
    classify: (err) =>
      isAppError(err) ? { status: httpStatusOf(err.type), type: err.type, message: err.message } : undefined,
    close: () => deps.close(),
  };
}
