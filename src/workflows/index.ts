export * from './account-sync';
