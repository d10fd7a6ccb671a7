import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

// Custom search attributes of the account workflow, so that an operator can list "every account in error"
// in the Temporal UI (`SevsyncState = "error"`). A namespace must have them registered: the dev server started
// by the project does (src/dev/temporal-cli.ts), compose and Kubernetes register them in their namespace job,
// and the worker checks them (and registers them where it may) before it polls (src/worker/namespace.ts).
export const SEARCH_ATTRIBUTE_NAMES = { account: 'SevsyncAccount', state: 'SevsyncState' } as const;

export const accountSearchKey = defineSearchAttributeKey(
  SEARCH_ATTRIBUTE_NAMES.account,
  SearchAttributeType.KEYWORD,
);
export const stateSearchKey = defineSearchAttributeKey(
  SEARCH_ATTRIBUTE_NAMES.state,
  SearchAttributeType.KEYWORD,
);

/** `--search-attribute` arguments for `temporal server start-dev` and `temporal operator search-attribute create`. */
export const searchAttributeArgs = (): string[] =>
  Object.values(SEARCH_ATTRIBUTE_NAMES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]);
