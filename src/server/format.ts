// German display of what OneCockpit shows. Money stays a decimal string end to end: formatted by string
// operations, never through a JS number.

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Everything that reaches HTML goes through this (sevDesk data is typed by people). */
export function esc(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const CURRENCY_SYMBOLS: Record<string, string> = { EUR: '€', USD: '$', GBP: '£', CHF: 'CHF' };

/** "1487.5" -> "1.487,50 €"; "-12" -> "-12,00 €". Anything that is not a decimal is shown as is. */
export function money(amount: string | null | undefined, currency = 'EUR'): string {
  if (amount === null || amount === undefined) return '';
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(amount.trim());
  const symbol = CURRENCY_SYMBOLS[currency] ?? currency;
  if (!m) return `${amount} ${symbol}`;
  const [, sign, int = '0', frac = ''] = m;
  const cents = (frac + '00').slice(0, 2);
  const grouped = int.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const negative = sign === '-' && /[1-9]/.test(int + cents);
  return `${negative ? '-' : ''}${grouped},${cents} ${symbol}`;
}

/** "2026-03-15" -> "15.03.2026". */
export function date(iso: string | null | undefined): string {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : iso;
}

const DATE_TIME = new Intl.DateTimeFormat('de-DE', {
  timeZone: 'Europe/Berlin',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** An instant in Berlin time: "15.03.2026, 14:05:09". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_TIME.format(d);
}

/** True when a decimal string is greater than zero (no float parsing). */
export function isPositive(amount: string | null | undefined): boolean {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec((amount ?? '').trim());
  return !!m && m[1] !== '-' && /[1-9]/.test(`${m[2]}${m[3] ?? ''}`);
}

export type InvoiceStatusWord = 'offen' | 'teilweise bezahlt' | 'bezahlt' | 'storniert';

export function invoiceStatusWord(status: string, paidAmount: string | null | undefined): InvoiceStatusWord {
  if (status === 'paid') return 'bezahlt';
  if (status === 'cancelled') return 'storniert';
  return isPositive(paidAmount) ? 'teilweise bezahlt' : 'offen';
}

export const STATE_WORDS: Record<string, string> = {
  idle: 'bereit',
  syncing: 'synchronisiert gerade',
  paused: 'deaktiviert',
  error: 'Fehler',
};

export const IMPORT_STATE_WORDS: Record<string, string> = {
  running: 'läuft',
  paused: 'angehalten',
  done: 'abgeschlossen',
  failed: 'fehlgeschlagen',
  error: 'unterbrochen',
};

/** 3000 -> "3.000". */
export const count = (n: number | null | undefined): string =>
  n === null || n === undefined ? '?' : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
