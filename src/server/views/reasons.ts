// Why an invoice is unassigned, in German: matched on the English reason the sync records.
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
