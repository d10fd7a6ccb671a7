// The German pages, rendered on the server. Every value goes through esc(); the only script is the small
// live-refresh loop below (nonce-bound by the Content-Security-Policy).
import { ErrorTypes } from '../shared';
import type { CustomerJson, StatusJson } from './use-cases';
import {
  IMPORT_STATE_WORDS,
  STATE_WORDS,
  count,
  date,
  dateTime,
  esc,
  invoiceStatusWord,
  money,
} from './format';

export interface PageContext {
  nonce: string;
  account: string;
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#102a43;color:#fff;padding:.75rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
nav.nav{display:flex;gap:1.5rem}form.signout{margin-left:auto}
header a{color:#d9e2ec;text-decoration:none}header a[aria-current=page]{color:#fff;font-weight:600}
main{max-width:70rem;margin:1.5rem auto;padding:0 1.5rem}
section,.card{background:#fff;border-radius:8px;padding:1rem 1.25rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e4e7eb}
td.num,th.num{text-align:right;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{color:#52606d}dd{margin:0}
.alert{border-left:4px solid #d64545;background:#ffeeee;padding:.6rem .9rem;margin:0 0 1rem}
.note{border-left:4px solid #2680c2;background:#e6f6ff;padding:.6rem .9rem;margin:0 0 1rem}
button{font:inherit;padding:.45rem .9rem;border-radius:6px;border:1px solid #334e68;background:#334e68;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#334e68}button:disabled{opacity:.5;cursor:default}
input[type=text],input[type=number],select{font:inherit;padding:.4rem;border:1px solid #9aa5b1;border-radius:4px;min-width:20rem}
label{display:block;margin:.5rem 0 .2rem}
.row{display:flex;align-items:center;justify-content:space-between;gap:1rem}
.switch{display:flex;align-items:center;gap:.6rem}
.switch button{width:3.2rem;height:1.7rem;border-radius:1rem;border:none;background:#9aa5b1;position:relative;padding:0}
.switch button::after{content:"";position:absolute;top:.2rem;left:.2rem;width:1.3rem;height:1.3rem;border-radius:50%;background:#fff;transition:left .15s}
.switch button[aria-checked=true]{background:#3ebd93}.switch button[aria-checked=true]::after{left:1.7rem}
progress{width:100%;height:1.2rem}
ul.numbers{display:flex;flex-wrap:wrap;gap:.3rem .5rem;list-style:none;padding:0;margin:.3rem 0 1rem}ul.numbers li{background:#f0f4f8;border-radius:4px;padding:.1rem .45rem;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.85rem;background:#e4e7eb}
.badge.bezahlt{background:#c6f7e2}.badge.offen{background:#fff3c4}.badge.teilweise{background:#ffe8d9}.badge.storniert{background:#e4e7eb;text-decoration:line-through}
`;

/**
 * Live refresh: polls the account's status JSON every 1.5 s; when it changed, the page's live region is
 * fetched again (`?live=1`) and swapped in (one renderer: the server). Forms outside it keep what is typed.
 */
const LIVE_SCRIPT = `
(function(){
  var live=document.getElementById('live'); if(!live) return;
  var src=live.getAttribute('data-status'); var last=null;
  function tick(){
    fetch(src,{headers:{accept:'application/json'},credentials:'same-origin'}).then(function(r){
      if(r.status===401){location.reload();return null;} return r.ok?r.text():null;
    }).then(function(body){
      if(body===null) return;
      if(last!==null&&body!==last){
        var u=new URL(location.href); u.searchParams.set('live','1');
        return fetch(u,{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null;}).then(function(html){
          if(html) live.innerHTML=html;
        });
      }
      last=body;
    }).catch(function(){}).then(function(){setTimeout(tick,1500);});
  }
  tick();
})();`;

function layout(
  ctx: PageContext,
  opts: { title: string; current: 'interface' | 'customers' | null; body: string; live?: boolean },
): string {
  const a = encodeURIComponent(ctx.account);
  const nav =
    ctx.account === ''
      ? ''
      : `<nav aria-label="Konto" class="nav">
  <a href="/ui/accounts/${a}/interface"${ctx.account && opts.current === 'interface' ? ' aria-current="page"' : ''}>Mein Konto – Einstellungen – Schnittstellen</a>
  <a href="/ui/accounts/${a}/customers"${opts.current === 'customers' ? ' aria-current="page"' : ''}>Kunden</a>
</nav>
<form method="post" action="/ui/sign-out" class="signout"><button class="secondary" type="submit">Abmelden</button></form>`;
  return `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(opts.title)} – OneCockpit</title>
<style nonce="${ctx.nonce}">${STYLE}</style>
</head>
<body>
<header><strong>OneCockpit</strong>${ctx.account ? `<span>Konto ${esc(ctx.account)}</span>` : ''}${nav}</header>
<main>
${opts.body}
</main>
${opts.live ? `<script nonce="${ctx.nonce}">${LIVE_SCRIPT}</script>` : ''}
</body>
</html>`;
}

const alert = (message: string | undefined) =>
  message ? `<div class="alert" role="alert">${esc(message)}</div>` : '';
const note = (message: string | undefined) =>
  message ? `<div class="note" role="status">${esc(message)}</div>` : '';

export function signInPage(opts: { nonce: string; next: string; error?: string }): string {
  return layout(
    { nonce: opts.nonce, account: '' },
    {
      title: 'Anmelden',
      current: null,
      body: `<h1>Anmelden</h1>
${alert(opts.error)}
<section>
<form method="post" action="/ui/sign-in">
  <input type="hidden" name="next" value="${esc(opts.next)}">
  <label for="access">Zugangsschlüssel (SEVSYNC_API_TOKEN)</label>
  <input id="access" name="token" type="password" autocomplete="current-password" required>
  <p><button type="submit">Anmelden</button></p>
</form>
</section>`,
    },
  );
}

/**
 * The page a one-time link opens. The code travels in the URL fragment (never sent to a server, never in a
 * log or Referer); the script posts it same-site, so the SameSite=Strict cookie is set on our own request.
 */
export function signInLinkPage(opts: { nonce: string }): string {
  return layout(
    { nonce: opts.nonce, account: '' },
    {
      title: 'Anmelden',
      current: null,
      body: `<h1>Anmelden</h1>
<section>
<form id="link" method="post" action="/ui/sign-in/link">
  <input type="hidden" id="code" name="code" value="">
  <p>Du wirst angemeldet …</p>
  <noscript>Dieser Anmeldelink braucht JavaScript; melde dich sonst mit dem Zugangsschlüssel an: <a href="/ui/sign-in">Anmelden</a></noscript>
</form>
</section>
<script nonce="${opts.nonce}">document.getElementById('code').value=location.hash.slice(1);history.replaceState(null,'',location.pathname);document.getElementById('link').submit();</script>`,
    },
  );
}

export function accountPickerPage(opts: { nonce: string }): string {
  return layout(
    { nonce: opts.nonce, account: '' },
    {
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
    },
  );
}

export function errorPage(ctx: PageContext, opts: { title: string; message: string }): string {
  return layout(ctx, {
    title: opts.title,
    current: null,
    body: `<h1>${esc(opts.title)}</h1>${alert(opts.message)}`,
  });
}

const REASON_NO_EMAIL = 'the sevDesk contact has no e-mail address';
const REASON_NO_CONTACT = 'the invoice has no contact, or its contact was not found in sevDesk';

/** The reason in German, and what to do about it in sevDesk. */
export function unassignedReason(reason: string): { why: string; todo: string } {
  if (reason === REASON_NO_EMAIL)
    return {
      why: 'Der Kontakt des Rechnungsempfängers hat in sevDesk keine E-Mail-Adresse.',
      todo: 'Hinterlege in sevDesk beim Kontakt des Rechnungsempfängers eine E-Mail-Adresse; bei der nächsten Synchronisierung wird die Rechnung dem Kunden zugewiesen.',
    };
  if (reason === REASON_NO_CONTACT)
    return {
      why: 'Die Rechnung hat in sevDesk keinen Kontakt (oder er wurde nicht gefunden).',
      todo: 'Ordne der Rechnung in sevDesk einen Kontakt mit E-Mail-Adresse zu; bei der nächsten Synchronisierung wird sie zugewiesen.',
    };
  return {
    why: reason,
    todo: 'Prüfe die Rechnung und den Kontakt in sevDesk; bei der nächsten Synchronisierung wird sie erneut geprüft.',
  };
}

function importBlock(s: StatusJson): string {
  const imp = s.import;
  if (!imp) return '<p id="import-state">Noch kein Massenimport.</p>';
  const word = IMPORT_STATE_WORDS[imp.state] ?? imp.state;
  const figures = `${count(imp.done)} / ${imp.total === null ? '?' : count(imp.total)} Rechnungen`;
  if (imp.state === 'running' || imp.state === 'paused') {
    const value = imp.total === null ? '' : ` value="${imp.done}" max="${Math.max(imp.total, imp.done, 1)}"`;
    return `<p id="import-state">Massenimport ${esc(word)}: <span id="import-figures">${esc(figures)}</span></p>
<progress aria-label="Massenimport" aria-valuetext="${esc(figures)}"${value}></progress>`;
  }
  const resume =
    imp.state === 'error' || imp.state === 'failed'
      ? ' Klicke auf „Massenimport starten“, um ihn an der Stelle fortzusetzen, an der er stehen blieb.'
      : '';
  return `<p id="import-state">Massenimport ${esc(word)}: <span id="import-figures">${esc(figures)}</span>${esc(resume)}</p>`;
}

function issuesBlock(s: StatusJson): string {
  // Grouped by reason: what to do is said once, then the invoice numbers it applies to.
  const byReason = new Map<string, StatusJson['unassigned']>();
  for (const u of s.unassigned) byReason.set(u.reason, [...(byReason.get(u.reason) ?? []), u]);
  const unassigned = s.unassigned.length
    ? [...byReason]
        .map(([reason, list]) => {
          const r = unassignedReason(reason);
          return `<div class="reason"><p><strong>${esc(r.why)}</strong> (${count(list.length)})<br>Was tun: ${esc(r.todo)}</p>
<ul class="numbers" aria-label="Nicht zugeordnete Rechnungen: ${esc(r.why)}">${list
            .map((u) => `<li>${esc(u.invoiceNumber ?? `ohne Nummer (sevDesk-ID ${u.sourceId})`)}</li>`)
            .join('')}</ul></div>`;
        })
        .join('\n')
    : '<p>Alle Rechnungen sind einem Kunden zugeordnet.</p>';
  const conflicts = s.conflicts.length
    ? `<p>Diese Rechnungsnummern kommen aus mehreren Rechnungsprogrammen. Beide Rechnungen bleiben erhalten; vergib in den Programmen unterschiedliche Nummernkreise.</p>
<ul aria-label="Rechnungsnummern im Konflikt">${s.conflicts
        .map((c) => `<li>${esc(c.invoiceNumber)} (${esc(c.sources.join(', '))})</li>`)
        .join('')}</ul>`
    : '<p>Keine Konflikte.</p>';
  const invalid = s.invalid?.length
    ? `<p>Diese Datensätze konnte sevsync nicht lesen; sie werden bei jeder Synchronisierung erneut geprüft.</p>
<table aria-label="Ungültige Datensätze"><thead><tr><th>Rechnungsnummer</th><th>sevDesk-ID</th><th>Grund</th></tr></thead><tbody>
${s.invalid
  .map(
    (i) =>
      `<tr><td>${esc(i.invoiceNumber ?? '')}</td><td>${esc(i.sourceId)}</td><td>${esc(i.reason)}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`
    : '<p>Keine ungültigen Datensätze.</p>';
  return `<section aria-labelledby="h-unassigned"><h2 id="h-unassigned">Nicht zugeordnete Rechnungen (${count(s.unassigned.length)})</h2>
<p>Rechnungen können nur dann einem Kunden zugewiesen werden, wenn beim Kontakt des Rechnungsempfängers in sevDesk die E-Mail-Adresse hinterlegt ist.</p>
${unassigned}</section>
<section aria-labelledby="h-conflicts"><h2 id="h-conflicts">Rechnungsnummern im Konflikt (${count(s.conflicts.length)})</h2>${conflicts}</section>
<section aria-labelledby="h-invalid"><h2 id="h-invalid">Ungültige Datensätze (${count(s.invalid?.length ?? 0)})</h2>${invalid}</section>`;
}

function liveBlock(ctx: PageContext, s: StatusJson): string {
  const tokenHint =
    s.error?.type === ErrorTypes.invalidToken
      ? 'sevDesk lehnt den gespeicherten API-Token ab. Deaktiviere die Schnittstelle, trage unten den neuen API-Token ein und aktiviere sie wieder. '
      : '';
  const err = s.error
    ? `<span id="last-error">${esc(tokenHint)}${esc(s.error.message)}</span>`
    : '<span id="last-error">keiner</span>';
  const held = s.heldSweep
    ? `<div class="note" role="status">Ein Abgleich würde ${count(s.heldSweep.count)} von ${count(s.heldSweep.total)} Rechnungen entfernen, die es in sevDesk nicht mehr gibt. Das ist ungewöhnlich viel; er wartet auf deine Bestätigung.
<form method="post" action="/ui/accounts/${encodeURIComponent(ctx.account)}/reconcile"><input type="hidden" name="confirm" value="true"><button type="submit">Abgleich bestätigen</button></form></div>`
    : '';
  return `<section aria-labelledby="h-state"><h2 id="h-state">Zustand</h2>
<dl>
<dt>Zustand</dt><dd id="state">${esc(STATE_WORDS[s.state] ?? s.state)}</dd>
<dt>Letzte Synchronisierung</dt><dd id="last-sync">${esc(dateTime(s.lastSyncAt) || 'noch keine')}</dd>
<dt>Nächste Synchronisierung</dt><dd id="next-sync">${esc(s.active ? dateTime(s.nextSyncAt) || '–' : 'keine (deaktiviert)')}</dd>
<dt>Letzter Fehler</dt><dd>${err}</dd>
<dt>Kunden</dt><dd>${count(s.counts.customers)}</dd>
<dt>Rechnungen</dt><dd>${count(s.counts.invoices)}</dd>
</dl>
${held}
<div id="import">${importBlock(s)}</div>
</section>
${issuesBlock(s)}`;
}

const LIVE_START = '<!--live-->';
const LIVE_END = '<!--/live-->';

/** The part of a page the live refresh swaps; it polls the account's status to know when. */
const liveRegion = (ctx: PageContext, inner: string) =>
  `<div id="live" data-status="/api/accounts/${encodeURIComponent(ctx.account)}/status" aria-live="polite">${LIVE_START}
${inner}
${LIVE_END}</div>`;

/** Only the live region of a rendered page (what `?live=1` answers). */
export function liveFragment(page: string): string {
  const i = page.indexOf(LIVE_START);
  const j = page.indexOf(LIVE_END);
  return i < 0 || j < i ? '' : page.slice(i + LIVE_START.length, j);
}

export interface InterfacePageInput {
  status: StatusJson | null;
  error?: string | undefined;
  notice?: string | undefined;
}

const HELP = `<p>Mit dieser Schnittstelle werden alle in sevDesk erstellten Rechnungen automatisch zu OneCockpit übertragen.</p>
<ol>
<li>Melde dich in deinem sevDesk-Account an und klicke links im Menü auf Erweiterungen – API.</li>
<li>Klicke auf Einblenden, damit der API-Token dargestellt wird, und kopiere ihn.</li>
<li>Füge den API-Token hier ein und klicke auf „Einstellungen speichern“.</li>
</ol>`;

export function interfacePage(ctx: PageContext, input: InterfacePageInput): string {
  const a = encodeURIComponent(ctx.account);
  const s = input.status;
  if (!s) {
    return layout(ctx, {
      title: 'Schnittstellen',
      current: 'interface',
      body: `<h1>Schnittstellen</h1>
${alert(input.error)}${note(input.notice)}
<section aria-labelledby="h-add"><h2 id="h-add">Schnittstelle hinzufügen: sevDesk</h2>
${HELP}
<form method="post" action="/ui/accounts/${a}/interface">
  <label for="token">API-Token</label>
  <input id="token" name="token" type="text" autocomplete="off" spellcheck="false" required>
  <p><button type="submit">Einstellungen speichern</button></p>
</form>
</section>`,
    });
  }
  const settings = s.active
    ? '<p>Um die Einstellungen zu ändern, deaktiviere die Schnittstelle (Schieberegler oben).</p>'
    : `<form method="post" action="/ui/accounts/${a}/interface/settings">
  <label for="token">API-Token</label>
  <input id="token" name="token" type="text" autocomplete="off" spellcheck="false" placeholder="leer lassen: bisheriger API-Token">
  <label for="interval">Intervall (Sekunden)</label>
  <input id="interval" name="intervalSeconds" type="number" min="1" max="86400" placeholder="unverändert">
  <label for="basis">Rechnungsbetrag</label>
  <select id="basis" name="amountBasis">
    <option value="" selected>unverändert</option>
    <option value="gross">brutto</option>
    <option value="net">netto</option>
  </select>
  <p><button type="submit">Einstellungen speichern</button></p>
</form>`;
  return layout(ctx, {
    title: 'Schnittstellen',
    current: 'interface',
    live: true,
    body: `<h1>Schnittstellen</h1>
${alert(input.error)}${note(input.notice)}
<section aria-labelledby="h-iface">
<div class="row"><h2 id="h-iface">sevDesk-Schnittstelle</h2>
<form method="post" action="/ui/accounts/${a}/interface/active" class="switch">
  <input type="hidden" name="active" value="${s.active ? 'false' : 'true'}">
  <span id="active-label">Schnittstelle aktiv</span>
  <button type="submit" role="switch" aria-checked="${s.active}" aria-labelledby="active-label"></button>
</form></div>
<p>Rechnungen aus der Vergangenheit importierst du mit einem Klick:</p>
<form method="post" action="/ui/accounts/${a}/import">
  <button type="submit"${s.active ? '' : ' disabled'}>Massenimport starten</button>
</form>
</section>
${liveRegion(ctx, liveBlock(ctx, s))}
<section aria-labelledby="h-settings"><h2 id="h-settings">Einstellungen</h2>${settings}</section>
<section aria-labelledby="h-remove"><h2 id="h-remove">Schnittstelle entfernen</h2>
<form method="post" action="/ui/accounts/${a}/interface/remove">
  <label><input type="checkbox" name="purge" value="true"> auch die übertragenen Rechnungen löschen (Kunden bleiben)</label>
  <p><button class="secondary" type="submit">Schnittstelle entfernen</button></p>
</form>
</section>`,
  });
}

const customerName = (c: CustomerJson) =>
  [c.title, c.firstName, c.lastName].filter((x) => x).join(' ') || c.company || '';

const customerHref = (ctx: PageContext, email: string) =>
  `/ui/accounts/${encodeURIComponent(ctx.account)}/customers/${encodeURIComponent(email)}`;

export function customersPage(ctx: PageContext, customers: CustomerJson[]): string {
  const rows = customers
    .map(
      (
        c,
      ) => `<tr><td><a href="${esc(customerHref(ctx, c.email))}">${esc(c.email)}</a></td><td>${esc(customerName(c))}</td><td>${esc(c.company ?? '')}</td>
<td class="num">${esc(money(c.values.invoices, c.currency))}</td><td class="num">${esc(money(c.values.total, c.currency))}</td><td class="num">${c.invoices.length}</td></tr>`,
    )
    .join('\n');
  return layout(ctx, {
    title: 'Kunden',
    current: 'customers',
    live: true,
    body: `<h1>Kunden</h1>
${liveRegion(
  ctx,
  `<section>
${
  customers.length
    ? `<table aria-label="Kunden"><thead><tr><th>E-Mail</th><th>Name</th><th>Firma</th><th class="num">Kundenwert (Rechnungen)</th><th class="num">Kundenwert (gesamt)</th><th class="num">Rechnungen</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p>Noch keine Kunden.</p>'
}
</section>
`,
)}`,
  });
}

const CONTACT_FIELDS: [keyof CustomerJson, string][] = [
  ['email', 'E-Mail Adresse'],
  ['company', 'Firmenname'],
  ['title', 'Titel'],
  ['firstName', 'Vorname'],
  ['lastName', 'Nachname'],
  ['street', 'Adresse (Straße & Hausnummer)'],
  ['zip', 'PLZ'],
  ['city', 'Stadt'],
  ['country', 'Land'],
  ['phone', 'Telefonnummer'],
];

export function customerPage(ctx: PageContext, c: CustomerJson): string {
  const invoices = c.invoices
    .map((i) => {
      const word = invoiceStatusWord(i.status, i.paidAmount);
      const foreign =
        i.foreignAmount && i.foreignCurrency && i.foreignCurrency !== i.currency
          ? ` <small>(${esc(money(i.foreignAmount, i.foreignCurrency))})</small>`
          : '';
      const paid =
        word === 'teilweise bezahlt'
          ? ` <small>(${esc(money(i.paidAmount, i.currency))} bezahlt)</small>`
          : '';
      return `<tr><td>${esc(i.number ?? '')}</td><td>${esc(date(i.date))}</td><td>${esc(date(i.dueDate))}</td>
<td class="num">${esc(money(i.amount, i.currency))}${foreign}</td><td><span class="badge ${word.split(' ')[0]}">${esc(word)}</span>${paid}</td></tr>`;
    })
    .join('\n');
  return layout(ctx, {
    title: c.email,
    current: 'customers',
    live: true,
    body: `<p><a href="/ui/accounts/${encodeURIComponent(ctx.account)}/customers">← Kunden</a></p>
<h1>${esc(customerName(c) || c.email)}</h1>
${liveRegion(
  ctx,
  `<section aria-labelledby="h-contact"><h2 id="h-contact">Kontakt</h2>
<dl>
${CONTACT_FIELDS.map(([k, label]) => `<dt>${esc(label)}</dt><dd>${esc((c[k] as string | null) ?? '')}</dd>`).join('\n')}
<dt>Kundenwert (Rechnungen)</dt><dd>${esc(money(c.values.invoices, c.currency))}</dd>
<dt>Kundenwert (gesamt)</dt><dd>${esc(money(c.values.total, c.currency))}</dd>
</dl></section>
<section aria-labelledby="h-invoices"><h2 id="h-invoices">Rechnungen (${c.invoices.length})</h2>
${
  c.invoices.length
    ? `<table aria-label="Rechnungen"><thead><tr><th>Rechnungsnummer</th><th>Datum</th><th>Fällig am</th><th class="num">Betrag</th><th>Status</th></tr></thead><tbody>
${invoices}
</tbody></table>`
    : '<p>Keine Rechnungen.</p>'
}
</section>
`,
)}`,
  });
}
