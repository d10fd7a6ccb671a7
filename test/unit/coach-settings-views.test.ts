import { describe, expect, it } from 'vitest';
import type { RunJson, StatusJson } from '../../src/server/use-cases';
import { duration, relativeTime, statusBlock } from '../../src/server/views/status';

// The settings page's German texts: relative time, durations, the receipt, the Verlauf and the contacts.
const now = new Date('2026-11-03T13:07:00.000Z');
const base: StatusJson = {
  account: 'a',
  active: true,
  state: 'idle',
  error: null,
  lastSyncAt: '2026-11-03T13:05:00.000Z',
  nextSyncAt: null,
  counts: { customers: 1, invoices: 1234, unassigned: 16, invalid: 0 },
  unassigned: [],
  conflicts: [],
  invalid: [],
  import: null,
  heldSweep: null,
  receipt: {
    sevdesk: 1250,
    assigned: 1218,
    unassigned: 16,
    invalid: 0,
    stornos: 10,
    at: '2026-11-03T13:05:00.000Z',
  },
};

describe('the settings page texts', () => {
  it('says how long ago in German', () => {
    expect(relativeTime('2026-11-03T13:06:50.000Z', now)).toBe('vor wenigen Sekunden');
    expect(relativeTime('2026-11-03T13:06:00.000Z', now)).toBe('vor 1 Minute');
    expect(relativeTime('2026-11-03T13:05:00.000Z', now)).toBe('vor 2 Minuten');
    expect(relativeTime('2026-11-03T10:07:00.000Z', now)).toBe('vor 3 Stunden');
    expect(relativeTime('2026-10-01T13:07:00.000Z', now)).toBe('vor 33 Tagen');
    expect(duration(null)).toBe('—');
    expect(duration(800)).toBe('0,8 s');
    expect(duration(185_000)).toBe('3 min 5 s');
  });

  it('shows the receipt with the difference explained, the Verlauf and the unassigned by contact', () => {
    const run: RunJson = {
      kind: 'incremental',
      startedAt: '2026-11-03T13:04:58.000Z',
      finishedAt: '2026-11-03T13:05:00.000Z',
      durationMs: 2000,
      fetched: 1234,
      written: 3,
      removed: null,
      unassigned: 16,
      invalid: 0,
      sevdeskTotal: null,
      error: { type: 'SevdeskInvalidTokenError', message: 'x' },
    };
    const html = statusBlock({ account: 'a' }, base, {
      now,
      history: [run],
      unassignedByContact: [
        {
          contactId: '42',
          name: 'Müller <GmbH>',
          reason: 'the sevDesk contact has no e-mail address',
          invoices: 2,
          sum: '1487.50',
          currency: 'EUR',
          numbers: [
            { invoiceNumber: 'RE-1', sourceId: '1' },
            { invoiceNumber: null, sourceId: '2' },
          ],
        },
      ],
    });
    expect(html).toContain('zuletzt synchronisiert vor 2 Minuten');
    expect(html).toContain(
      'sevDesk zählt 1.250 Rechnungen, in OneCockpit: 1.218 zugeordnet, 16 ohne E-Mail, 0 fehlerhaft',
    );
    expect(html).toContain('Differenz 16: 10 Stornorechnungen');
    expect(html).toContain('03.11.2026, 14:05:00');
    expect(html).toContain(
      '<td>Synchronisierung</td><td>2,0 s</td><td>1.234</td><td>3</td><td>—</td><td>16</td>',
    );
    expect(html).toContain('sevDesk hat den API-Token abgelehnt');
    expect(html).toContain('href="https://my.sevdesk.de/crm/detail/id/42"');
    expect(html).toContain('Müller &lt;GmbH&gt;');
    expect(html).toContain('1.487,50 €');
    expect(html).toContain('ohne Nummer (sevDesk-ID 2)');
  });

  it('says when no walk has ended yet', () => {
    expect(statusBlock({ account: 'a' }, { ...base, receipt: null }, { now })).toContain(
      'Die Vollständigkeitsprüfung folgt, sobald der erste Massenimport fertig ist.',
    );
  });
});
