export * from './account-sync';
export * from './bulk-import';
export * from './webhook-delivery';
