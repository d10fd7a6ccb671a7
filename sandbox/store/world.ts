import { berlinMidnight, toUnixSeconds } from '../berlin-time';
import type { World } from '../contacts';

export interface GenerateOptions {
  invoices: number;
  /** Default: invoices / 8, at least 5. */
  contacts?: number;
  /** End of the generated history. Default 2026-11-01 (fixed, so that a seed always gives the same data). */
  until?: Date;
  /** Length of the generated history in years. Default 6. */
  years?: number;
}

export interface StoreOptions {
  seed?: number;
  data?: GenerateOptions;
  /** Clock for the create/update stamps of mutations. */
  now?: () => Date;
  /** The sevDesk company (SevClient) every object belongs to; default 1234567 as in the fixtures. */
  sevClientId?: string;
}

const DAY = 86400;
const DEFAULT_UNTIL = new Date('2026-11-01T00:00:00+01:00');

/** The generator's global decisions for these options; throws on counts that make no sense. */
export function worldOf(options: StoreOptions): World {
  const seed = options.seed ?? 1;
  const data = options.data ?? { invoices: 120, contacts: 40 };
  if (!Number.isInteger(data.invoices) || data.invoices < 0)
    throw new Error('invoices must be an integer >= 0');
  const contacts = data.contacts ?? Math.max(5, Math.round(data.invoices / 8));
  if (!Number.isInteger(contacts) || contacts < 1) throw new Error('contacts must be an integer >= 1');
  const until = toUnixSeconds(data.until ?? DEFAULT_UNTIL);
  const from = berlinMidnight(until - Math.round((data.years ?? 6) * 365 * DAY));
  return {
    seed,
    from,
    until,
    contacts,
    invoices: data.invoices,
    sevClient: { id: options.sevClientId ?? '1234567', objectName: 'SevClient' },
  };
}
