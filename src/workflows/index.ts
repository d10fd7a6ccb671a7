export * from './account-sync';
export * from './bulk-import';
