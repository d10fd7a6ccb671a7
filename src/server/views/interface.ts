// "Schnittstellen": add the sevDesk interface (no interface yet), or switch it on and off, start the bulk
// import or a sync now, watch its status, receipt and "Verlauf" (live region), paste a new token when sevDesk
// rejected the stored one, change its settings while it is off, and remove it.
import type { StatusJson } from '../use-cases';
import type { PageContext } from './layout';
import { alert, layout, note } from './layout';
import { LIVE_SCRIPTS, liveRegion } from './live';
import type { StatusExtras } from './status';
import { statusBlock } from './status';

export interface InterfacePageInput extends StatusExtras {
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
    ? '<p>Um die Einstellungen zu ändern, deaktiviere die Schnittstelle (Schieberegler oben). Lehnt sevDesk den API-Token ab, fügst du den neuen oben bei „Zustand“ ein, ohne zu deaktivieren.</p>'
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
    scripts: LIVE_SCRIPTS,
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
<p>Neue und geänderte Rechnungen holt die Schnittstelle regelmäßig von selbst; sofort:</p>
<form method="post" action="/ui/accounts/${a}/sync">
  <button type="submit"${s.active ? '' : ' disabled'}>Jetzt synchronisieren</button>
</form>
</section>
${liveRegion(ctx, statusBlock(ctx, s, input))}
<section aria-labelledby="h-settings"><h2 id="h-settings">Einstellungen</h2>${settings}</section>
<section aria-labelledby="h-remove"><h2 id="h-remove">Schnittstelle entfernen</h2>
<form method="post" action="/ui/accounts/${a}/interface/remove">
  <label><input type="checkbox" name="purge" value="true"> auch die übertragenen Rechnungen löschen (Kunden bleiben)</label>
  <p><button class="secondary" type="submit">Schnittstelle entfernen</button></p>
</form>
</section>`,
  });
}
