// The account's status as the interface page shows it inside its live region: state and last error, the
// bulk import's progress, a held reconcile, and the issues (unassigned invoices, conflicts, invalid records).
import { ErrorTypes } from '../../shared';
import type { StatusJson } from '../use-cases';
import { IMPORT_STATE_WORDS, STATE_WORDS, count, dateTime, esc } from '../format';
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

function issuesBlock(s: StatusJson): string {
  // Grouped by reason: what to do is said once, then the invoice numbers it applies to.
  const byReason = new Map<string, StatusJson['unassigned']>();
  for (const u of s.unassigned) byReason.set(u.reason, [...(byReason.get(u.reason) ?? []), u]);
  const unassigned = s.unassigned.length
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
export function statusBlock(ctx: PageContext, s: StatusJson): string {
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
