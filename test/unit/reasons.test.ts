import { describe, expect, it } from 'vitest';
import type { IssueReason } from '../../src/domain/reasons';
import { germanReason, readReason, reasonText } from '../../src/domain/reasons';

// The stored English reason and the German one the pages show come from one table: whatever text a reason
// is written with, the pages read it back into the same reason.
const REASONS: IssueReason[] = [
  { code: 'no-contact' },
  { code: 'no-email' },
  { code: 'unusable-email', excerpt: '"info(at)praxis.de"' },
  { code: 'contact-unreadable', detail: 'CommunicationWay 7 is malformed (main: expected a flag)' },
  { code: 'unknown-status', status: '500' },
  { code: 'other', text: 'sumGross out of range: 1000000000000000' },
];

describe('issue reasons', () => {
  it.each(REASONS)('%j reads back from its stored text', (reason) => {
    expect(readReason(reasonText(reason))).toEqual(reason);
  });

  it('keeps the texts that status --json has always shown', () => {
    expect(reasonText({ code: 'no-email' })).toBe('the sevDesk contact has no e-mail address');
    expect(reasonText({ code: 'no-contact' })).toBe(
      'the invoice has no contact, or its contact was not found in sevDesk',
    );
  });

  it('reads a contact problem stored with the contact id in front', () => {
    const stored = `sevDesk contact 4711: ${reasonText({ code: 'unusable-email', excerpt: '"x"' })}`;
    expect(readReason(stored)).toEqual({ code: 'unusable-email', excerpt: '"x"' });
  });

  it('says in German what to do in sevDesk, with the parameters', () => {
    expect(germanReason(readReason('the sevDesk contact has no e-mail address')).todo).toMatch(
      /E-Mail-Adresse.*nächsten Synchronisierung/,
    );
    expect(germanReason({ code: 'unknown-status', status: '500' }).why).toMatch(/Status 500/);
    for (const r of REASONS.filter((x) => x.code !== 'other')) {
      expect(germanReason(r).why).not.toMatch(/sevDesk contact|the invoice|undocumented/);
    }
  });
});
