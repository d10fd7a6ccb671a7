// The pages before a session: the sign-in form (the API token) and the page a one-time sign-in link opens.
import { ASSETS } from '../assets';
import { esc } from '../format';
import { alert, layout } from './layout';

const NO_ACCOUNT = { account: '' };

export function signInPage(opts: { next: string; tokenSignIn: boolean; error?: string }): string {
  const form = opts.tokenSignIn
    ? `<form method="post" action="/ui/sign-in">
  <input type="hidden" name="next" value="${esc(opts.next)}">
  <label for="access">Zugangsschlüssel (SEVSYNC_API_TOKEN)</label>
  <input id="access" name="token" type="password" autocomplete="current-password" required>
  <p><button type="submit">Anmelden</button></p>
</form>`
    : `<p>Öffne die sevDesk-Schnittstelle in OneCockpit unter Mein Konto – Einstellungen – Schnittstellen;
  von dort wirst du hier angemeldet.</p>`;
  return layout(NO_ACCOUNT, {
    title: 'Anmelden',
    current: null,
    body: `<h1>Anmelden</h1>
${alert(opts.error)}
<section>
${form}
</section>`,
  });
}

/**
 * The page a one-time link opens. The code travels in the URL fragment (never sent to a server, never in a
 * log or Referer); ../static/sign-in-link.js posts it same-site, so the SameSite=Strict cookie is set on our
 * own request.
 */
export function signInLinkPage(): string {
  return layout(NO_ACCOUNT, {
    title: 'Anmelden',
    current: null,
    scripts: [ASSETS.signInLink],
    body: `<h1>Anmelden</h1>
<section>
<form id="link" method="post" action="/ui/sign-in/link">
  <input type="hidden" id="code" name="code" value="">
  <p>Du wirst angemeldet …</p>
  <noscript>Dieser Anmeldelink braucht JavaScript; melde dich sonst mit dem Zugangsschlüssel an: <a href="/ui/sign-in">Anmelden</a></noscript>
</form>
</section>`,
  });
}

/** After signing in with the API token (no account yet): which account to open. */
export function accountPickerPage(): string {
  return layout(NO_ACCOUNT, {
    title: 'Konto wählen',
    current: null,
    body: `<h1>Konto wählen</h1>
<section>
<form method="get" action="/ui/open">
  <label for="account">Konto</label>
  <input id="account" name="account" type="text" required>
  <p><button type="submit">Öffnen</button></p>
</form>
</section>`,
  });
}

/**
 * The page OneCockpit opens as /ui/embed#<embed token>: like a sign-in link, the token travels in the
 * fragment (never in a log or Referer) and ../static/sign-in-link.js posts it to us.
 */
export function embedPage(): string {
  return layout(NO_ACCOUNT, {
    title: 'Anmelden',
    current: null,
    scripts: [ASSETS.signInLink],
    body: `<h1>sevDesk-Schnittstelle</h1>
<section>
<form id="link" method="post" action="/ui/embed">
  <input type="hidden" id="code" name="code" value="">
  <p>Du wirst angemeldet …</p>
  <noscript>Diese Seite braucht JavaScript.</noscript>
</form>
</section>`,
  });
}
