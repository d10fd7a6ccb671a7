// The account's status as the interface page shows it inside its live region: state and last error (with the
// reconnect form when sevDesk rejected the token), the completeness receipt, the "Verlauf" of syncs and walks,
// the bulk import's progress, a held reconcile, and the issues (unassigned invoices by contact, conflicts,
// invalid records).
import { ErrorTypes } from '../../shared';
import type { ErrorInfo } from '../../shared';
import type { RunJson, StatusJson, UnassignedContactJson } from '../use-cases';
import { IMPORT_STATE_WORDS, STATE_WORDS, count, dateTime, esc, money } from '../format';
import type { PageContext } from './layout';
import { germanReason, readReason } from '../../domain/reasons';

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

/** What the page shows besides the status: the runs and the unassigned invoices by contact. */
export interface StatusExtras {
  history?: RunJson[] | undefined;
  unassignedByContact?: UnassignedContactJson[] | undefined;
  /** The current time (tests pass one); default now. */
  now?: Date | undefined;
}

/** "vor 2 Minuten": how long ago, in German. */
export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return '';
  if (seconds < 45) return 'vor wenigen Sekunden';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes === 1 ? 'vor 1 Minute' : `vor ${minutes} Minuten`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? 'vor 1 Stunde' : `vor ${hours} Stunden`;
  const days = Math.round(hours / 24);
  return days === 1 ? 'vor 1 Tag' : `vor ${count(days)} Tagen`;
}

/** A duration in German: "0,8 s", "12 s", "3 min 5 s"; "—" when not recorded. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace('.', ',')} s`;
  const total = Math.round(ms / 1000);
  if (total < 60) return `${total} s`;
  const m = Math.floor(total / 60);
  return `${count(m)} min ${total % 60} s`;
}

/** A run's or the interface's error in plain German, with what to do. */
export function germanRunError(e: ErrorInfo): string {
  switch (e.type) {
    case ErrorTypes.invalidToken:
      return 'sevDesk hat den API-Token abgelehnt. Füge oben den neuen API-Token ein und klicke auf „Einstellungen speichern“.';
    case ErrorTypes.otherCompany:
      return 'Der API-Token gehört zu einer anderen sevDesk-Firma. Trage den API-Token der bisherigen Firma ein.';
    case ErrorTypes.countMismatch:
      return 'sevDesk zählt mehr Rechnungen, als es ausliefert. Nichts zu tun: der nächste Abgleich prüft es erneut.';
    case ErrorTypes.walkIncomplete:
      return 'Der Durchlauf hat nicht alle Rechnungen erhalten. Starte den Massenimport erneut; er setzt dort fort.';
    default:
      return `sevDesk war nicht erreichbar oder antwortete mit einem Fehler (${e.type}). Nichts zu tun: sevsync versucht es automatisch erneut.`;
  }
}

const RUN_KINDS: Record<string, string> = {
  incremental: 'Synchronisierung',
  import: 'Massenimport',
  reconcile: 'Abgleich',
};

const dash = (n: number | null | undefined) => (n === null || n === undefined ? '—' : count(n));

function historyBlock(runs: RunJson[] | undefined): string {
  if (!runs) return '';
  const rows = runs.length
    ? runs
        .map(
          (r) =>
            `<tr><td>${esc(dateTime(r.finishedAt ?? r.startedAt))}</td><td>${esc(RUN_KINDS[r.kind] ?? r.kind)}</td>` +
            `<td>${esc(duration(r.durationMs))}</td><td>${dash(r.fetched)}</td><td>${dash(r.written)}</td>` +
            `<td>${dash(r.removed)}</td>` +
            `<td>${dash(r.unassigned)}</td><td>${r.error ? esc(germanRunError(r.error)) : 'ok'}</td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="10">Noch keine Synchronisierung.</td></tr>';
  return `<section aria-labelledby="h-history"><h2 id="h-history">Verlauf</h2>
<p>Die letzten ${count(runs.length)} Synchronisierungen und Durchläufe. „Neu oder geändert“ zählt die übertragenen Rechnungen; „—“: wird bei dieser Art nicht erfasst.</p>
<div class="scroll" role="region" aria-label="Verlauf der Synchronisierungen" tabindex="0"><table aria-label="Verlauf der Synchronisierungen"><thead><tr><th>Zeitpunkt</th><th>Art</th><th>Dauer</th><th>Gelesen</th><th>Neu oder geändert</th><th>Entfernt</th><th>Ohne E-Mail</th><th>Ergebnis</th></tr></thead><tbody>
${rows}
</tbody></table></div></section>`;
}

function receiptBlock(s: StatusJson): string {
  const r = s.receipt;
  if (!r)
    return '<p id="receipt">Die Vollständigkeitsprüfung folgt, sobald der erste Massenimport fertig ist.</p>';
  const held = r.assigned + r.unassigned + r.invalid;
  const stornos = r.stornos ?? 0;
  let why: string;
  if (r.sevdesk === null) why = 'sevDesk hat keine Anzahl genannt.';
  else {
    const diff = r.sevdesk - held;
    if (diff === 0) why = 'Vollständig: jede Rechnung aus sevDesk ist in OneCockpit.';
    else if (diff > 0) {
      const rest = diff - Math.min(stornos, diff);
      why =
        `Differenz ${count(diff)}: ` +
        [
          stornos > 0
            ? `${count(Math.min(stornos, diff))} Stornorechnungen (OneCockpit zeigt sie nicht, die stornierte Rechnung steht dort als storniert)`
            : '',
          rest > 0
            ? `${count(rest)} Entwürfe, Gutschriften oder andere Belege, die nicht übertragen werden, oder Rechnungen, die seitdem in sevDesk gelöscht wurden`
            : '',
        ]
          .filter(Boolean)
          .join('; ') +
        '.';
    } else
      why = `OneCockpit hat ${count(-diff)} Rechnungen mehr: sie sind in sevDesk nach dem Durchlauf hinzugekommen.`;
  }
  return `<p id="receipt"><strong>sevDesk zählt ${count(r.sevdesk)} Rechnungen, in OneCockpit: ${count(r.assigned)} zugeordnet, ${count(r.unassigned)} ohne E-Mail, ${count(r.invalid)} fehlerhaft</strong><br>
<span id="receipt-why">${esc(why)}</span> (Stand: ${esc(dateTime(r.at))})</p>`;
}

const CONTACT_URL = 'https://my.sevdesk.de/crm/detail/id/';

function contactsTable(list: UnassignedContactJson[]): string {
  return `<div class="scroll" role="region" aria-label="Nicht zugeordnete Rechnungen nach Kontakt" tabindex="0"><table aria-label="Nicht zugeordnete Rechnungen nach Kontakt"><thead><tr><th>Kontakt in sevDesk</th><th>Rechnungen</th><th>Summe</th><th>Rechnungsnummern</th></tr></thead><tbody>
${list
  .map((c) => {
    const name = c.name ?? (c.contactId ? `Kontakt ${c.contactId}` : 'ohne Kontakt');
    const who = c.contactId
      ? `<a href="${CONTACT_URL}${encodeURIComponent(c.contactId)}" target="_blank" rel="noopener noreferrer">${esc(name)}</a>`
      : esc(name);
    return `<tr><td>${who}</td><td>${count(c.invoices)}</td><td>${esc(money(c.sum, c.currency))}</td><td><ul class="numbers" aria-label="Nicht zugeordnete Rechnungen von ${esc(name)}">${c.numbers
      .map((n) => `<li>${esc(n.invoiceNumber ?? `ohne Nummer (sevDesk-ID ${n.sourceId})`)}</li>`)
      .join('')}</ul></td></tr>`;
  })
  .join('\n')}
</tbody></table></div>`;
}

function issuesBlock(s: StatusJson, byContact?: UnassignedContactJson[]): string {
  // Grouped by reason: what to do is said once, then the invoice numbers it applies to.
  const byReason = new Map<string, StatusJson['unassigned']>();
  for (const u of s.unassigned) byReason.set(u.reason, [...(byReason.get(u.reason) ?? []), u]);
  // By contact (the biggest sums first), grouped by what to do: one fix in sevDesk per contact.
  const contactsByReason = new Map<string, UnassignedContactJson[]>();
  for (const c of byContact ?? [])
    contactsByReason.set(c.reason, [...(contactsByReason.get(c.reason) ?? []), c]);
  const unassigned = byContact?.length
    ? [...contactsByReason]
        .map(([reason, list]) => {
          const r = germanReason(readReason(reason));
          const n = list.reduce((sum, c) => sum + c.invoices, 0);
          return `<div class="reason"><p><strong>${esc(r.why)}</strong> (${count(n)} ${n === 1 ? 'Rechnung' : 'Rechnungen'} von ${list.length === 1 ? 'einem Kontakt' : `${count(list.length)} Kontakten`})<br>Was tun: ${esc(r.todo)}</p>
${contactsTable(list)}</div>`;
        })
        .join('\n')
    : s.unassigned.length
      ? [...byReason]
          .map(([reason, list]) => {
            const r = germanReason(readReason(reason));
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
      `<tr><td>${esc(i.invoiceNumber ?? '')}</td><td>${esc(i.sourceId)}</td><td>${esc(germanReason(readReason(i.reason)).why)}</td></tr>`,
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

/** What the interface page's live region holds. */
export function statusBlock(ctx: PageContext, s: StatusJson, extras: StatusExtras = {}): string {
  const a = encodeURIComponent(ctx.account);
  const rejected = s.active && s.state === 'error' && s.error?.type === ErrorTypes.invalidToken;
  const err = s.error
    ? `<span id="last-error">${esc(germanRunError(s.error))} <small>(${esc(s.error.message)})</small></span>`
    : '<span id="last-error">keiner</span>';
  // Reconnect in one paste: the new token here, saved, checked at sevDesk, and the sync resumes by itself.
  const reconnect = rejected
    ? `<div class="alert" role="alert" id="reconnect"><p><strong>sevDesk lehnt den gespeicherten API-Token ab.</strong> Die Synchronisierung ist angehalten. Kopiere in sevDesk unter Erweiterungen – API den aktuellen API-Token (Einblenden) und füge ihn hier ein; danach läuft die Synchronisierung von selbst weiter.</p>
<form method="post" action="/ui/accounts/${a}/interface/settings">
  <input type="hidden" name="reconnect" value="1">
  <label for="reconnect-token">API-Token</label>
  <input id="reconnect-token" name="token" type="text" autocomplete="off" spellcheck="false" required>
  <p><button type="submit">Einstellungen speichern</button></p>
</form></div>`
    : '';
  const now = extras.now ?? new Date();
  const ago = s.lastSyncAt
    ? `zuletzt synchronisiert ${relativeTime(s.lastSyncAt, now)}`
    : 'noch nicht synchronisiert';
  const held = s.heldSweep
    ? `<div class="note" role="status">Ein Abgleich würde ${count(s.heldSweep.count)} von ${count(s.heldSweep.total)} Rechnungen entfernen, die es in sevDesk nicht mehr gibt. Das ist ungewöhnlich viel; er wartet auf deine Bestätigung.
<form method="post" action="/ui/accounts/${encodeURIComponent(ctx.account)}/reconcile"><input type="hidden" name="confirm" value="true"><button type="submit">Abgleich bestätigen</button></form></div>`
    : '';
  return `${reconnect}<section aria-labelledby="h-state"><h2 id="h-state">Zustand</h2>
<p id="sync-ago">${esc(ago)}</p>
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
<section aria-labelledby="h-receipt"><h2 id="h-receipt">Vollständigkeit</h2>${receiptBlock(s)}</section>
${historyBlock(extras.history)}
${issuesBlock(s, extras.unassignedByContact)}`;
}
