// The live region: the part of a page that ../static/live.js swaps when the account's status changed, and
// what `?live=1` answers (only that part of the page).
import { ASSETS } from '../assets';
import type { PageContext } from './layout';

const LIVE_START = '<!--live-->';
const LIVE_END = '<!--/live-->';

/** The script a page with a live region loads. */
export const LIVE_SCRIPTS = [ASSETS.live];

/** The part of a page the live refresh swaps; it polls the account's status to know when. */
export const liveRegion = (ctx: PageContext, inner: string) =>
  `<div id="live" data-status="/api/accounts/${encodeURIComponent(ctx.account)}/status" aria-live="polite">${LIVE_START}
${inner}
${LIVE_END}</div>`;

/** Only the live region of a rendered page (what `?live=1` answers). */
export function liveFragment(page: string): string {
  const i = page.indexOf(LIVE_START);
  const j = page.indexOf(LIVE_END);
  return i < 0 || j < i ? '' : page.slice(i + LIVE_START.length, j);
}
