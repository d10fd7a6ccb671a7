/** Behaviours sevDesk has not pinned down, one knob each; the defaults are the kind ones. */
export interface SandboxKnobs {
  /**
   * The undocumented default order of GET /Invoice: by id ascending or descending, by `update` (oldest
   * first), or by id with every page's rows shuffled per request [all GUESS].
   */
  listOrder: 'id-asc' | 'id-desc' | 'update' | 'shuffled';
  /** Without `showAll=true`, cancellation invoices (SR) are left out of lists [GUESS]. */
  hideWithoutShowAll: boolean;
  /** Added to every invoice list's `total` (countAll): a count one higher than the rows served [GUESS]. */
  totalExtra: number;
  /**
   * A foreign-currency invoice's sumNet/sumGross in its own currency, only the *Accounting sums in EUR
   * [GUESS: the spec says "usually the same as sumGross"; which one holds the base currency is unknown].
   */
  foreignSumsInOwnCurrency: boolean;
}

export function defaultKnobs(): SandboxKnobs {
  return { listOrder: 'id-asc', hideWithoutShowAll: false, totalExtra: 0, foreignSumsInOwnCurrency: false };
}
