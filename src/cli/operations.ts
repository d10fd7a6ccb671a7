// Kept for the tests and scripts that import the use cases from here: they live in src/app now.
export type { AddInput, AppDeps as OpsDeps, StatusView, UpdateInput } from '../app';
export {
  AppError as UserError,
  addInterface,
  confirmReconcile,
  connectApp as connectOps,
  getCustomers,
  getStatus,
  removeInterface,
  rotateKeys,
  setInterfaceActive,
  startImport,
  startReconcile,
  syncNow,
  updateInterfaceSettings,
  waitForImport,
} from '../app';
