// The German pages, rendered on the server: one module a page, the frame in layout.ts. Every value goes
// through esc() (../format.ts); the pages carry no inline script or style (../assets.ts serves them).
export type { PageContext } from './layout';
export { errorPage } from './error';
export { accountPickerPage, embedPage, signInLinkPage, signInPage } from './sign-in';
export type { InterfacePageInput } from './interface';
export { interfacePage } from './interface';
export { customersPage } from './customers';
export { customerPage } from './customer';
export { liveFragment } from './live';
