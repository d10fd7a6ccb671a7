// Why an invoice is unassigned or not shown, in one place: a code with its parameters, the English text the
// sync stores (`invoice_issues.reason`, the `reason` of `status --json`) and the German text the pages show.
// The pages read the stored text back into its code with the same templates that wrote it, so rewording a
// text here changes both languages at once.

export type IssueReason =
  | { code: 'no-contact' }
  | { code: 'no-email' }
  | { code: 'unusable-email'; excerpt: string }
  | { code: 'contact-unreadable'; detail: string }
  | { code: 'unknown-status'; status: string }
  /** Anything else (a record that failed its schema or could not be stored): the text as it is. */
  | { code: 'other'; text: string };

export const NO_CONTACT = 'the invoice has no contact, or its contact was not found in sevDesk';
export const NO_EMAIL = 'the sevDesk contact has no e-mail address';
export const UNUSABLE_EMAIL = 'unusable e-mail address';
export const CONTACT_UNREADABLE = 'the sevDesk contact could not be read';
const UNKNOWN_STATUS = /^sevDesk status (\S+) is undocumented: /;

/** The English text of a reason: what is stored and what `status --json` says. */
export function reasonText(reason: IssueReason): string {
  switch (reason.code) {
    case 'no-contact':
      return NO_CONTACT;
    case 'no-email':
      return NO_EMAIL;
    case 'unusable-email':
      return `${UNUSABLE_EMAIL}: ${reason.excerpt}`;
    case 'contact-unreadable':
      return `${CONTACT_UNREADABLE}: ${reason.detail}`;
    case 'unknown-status':
      return (
        `sevDesk status ${reason.status.slice(0, 10)} is undocumented: the invoice is neither shown nor counted ` +
        'until sevDesk sends a known status (200 open, 750 partly paid, 1000 paid)'
      );
    case 'other':
      return reason.text;
  }
}

/** A stored text read back into its reason; a text no template wrote is `other`. */
export function readReason(text: string): IssueReason {
  if (text === NO_CONTACT) return { code: 'no-contact' };
  if (text === NO_EMAIL) return { code: 'no-email' };
  // A contact's unreadable part is stored with the contact's id in front ("sevDesk contact 12: ...").
  const bare = text.replace(/^sevDesk contact \d+: /, '');
  if (bare.startsWith(`${UNUSABLE_EMAIL}: `))
    return { code: 'unusable-email', excerpt: bare.slice(UNUSABLE_EMAIL.length + 2) };
  if (bare.startsWith(CONTACT_UNREADABLE)) {
    return { code: 'contact-unreadable', detail: bare.slice(CONTACT_UNREADABLE.length).replace(/^: /, '') };
  }
  const status = UNKNOWN_STATUS.exec(text)?.[1];
  if (status !== undefined) return { code: 'unknown-status', status };
  return { code: 'other', text };
}

/** The reason in German for the pages, and what the coach can do about it in sevDesk. */
export function germanReason(reason: IssueReason): { why: string; todo: string } {
  const next = 'bei der nächsten Synchronisierung';
  switch (reason.code) {
    case 'no-contact':
      return {
        why: 'Die Rechnung hat in sevDesk keinen Kontakt (oder er wurde nicht gefunden).',
        todo: `Ordne der Rechnung in sevDesk einen Kontakt mit E-Mail-Adresse zu; ${next} wird sie zugewiesen.`,
      };
    case 'no-email':
      return {
        why: 'Der Kontakt des Rechnungsempfängers hat in sevDesk keine E-Mail-Adresse.',
        todo: `Hinterlege in sevDesk beim Kontakt des Rechnungsempfängers eine E-Mail-Adresse; ${next} wird die Rechnung dem Kunden zugewiesen.`,
      };
    case 'unusable-email':
      return {
        why: `Die E-Mail-Adresse des Kontakts in sevDesk ist keine gültige Adresse: ${reason.excerpt}`,
        todo: `Korrigiere in sevDesk die E-Mail-Adresse des Kontakts; ${next} wird die Rechnung zugewiesen.`,
      };
    case 'contact-unreadable':
      return {
        why: `Der Kontakt konnte aus sevDesk nicht gelesen werden (${reason.detail}).`,
        todo: `Prüfe den Kontakt in sevDesk; ${next} wird er erneut gelesen.`,
      };
    case 'unknown-status':
      return {
        why: `sevDesk meldet für die Rechnung den nicht dokumentierten Status ${reason.status}; sie wird weder angezeigt noch gezählt.`,
        todo: `Öffne die Rechnung in sevDesk; sobald sie offen, teilweise bezahlt oder bezahlt ist, wird sie ${next} übernommen.`,
      };
    case 'other':
      return {
        why: reason.text,
        todo: `Prüfe die Rechnung und den Kontakt in sevDesk; ${next} wird sie erneut geprüft.`,
      };
  }
}
