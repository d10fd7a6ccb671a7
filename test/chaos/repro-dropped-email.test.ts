import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAllContacts } from '../../src/activities/sevdesk-reads';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { SevdeskClient } from '../../src/sevdesk/client';
import { closeDefaultDispatchers, createSevdeskClient } from '../../src/sevdesk/client';

// Found while designing the campaign's "malformed" faults on /CommunicationWay. The contact load walks all
// CommunicationWays and keeps only the objects that pass the schema; one that does not is dropped without a
// word. When it was the contact's main e-mail, the contact silently gets its other e-mail address, so its
// invoices move to (or create) another customer; nothing corrects that before the next full import,
// because the contact itself did not change in sevDesk. A bad object must not stand for "no such e-mail".

let sb: Sandbox;
let client: SevdeskClient;
let evaId = '';

beforeAll(async () => {
  sb = await startSandbox({ seed: 111, data: { invoices: 40 } });
  client = createSevdeskClient({ baseUrl: sb.url, token: sb.token });
  const before = (await client.listCommunicationWays({ limit: 1000 })).rawCount;
  evaId = sb.store.addContact({
    kind: 'person',
    surename: 'Eva',
    familyname: 'Doppel',
    emails: [{ value: 'eva.main@example.com', main: true }, { value: 'eva.other@example.com' }],
  });
  // Enough contacts after Eva that her main e-mail is the middle object of the one page: the one the
  // sandbox's "malformed" fault corrupts.
  for (let k = 0; k < before - 2; k++) {
    sb.store.addContact({
      kind: 'organisation',
      name: `Füllstoff ${k} GmbH`,
      emails: [{ value: `f${k}@example.com` }],
    });
  }
});

afterAll(async () => {
  await sb.close();
  await closeDefaultDispatchers();
});

describe('a CommunicationWay that arrives malformed once', () => {
  it('does not change which e-mail address a contact has', async () => {
    const page = await client.listCommunicationWays({ limit: 1000 });
    expect(page.objects[Math.floor(page.rawCount / 2)]?.value).toBe('eva.main@example.com');
    const fine = await fetchAllContacts(client);
    expect(fine.rows.find((r) => r.source_id === evaId)?.email).toBe('eva.main@example.com');

    sb.faults.add({ kind: 'malformed', path: '/CommunicationWay', field: 'main' });
    const loaded = await fetchAllContacts(client).then(
      (r) => r,
      (err: unknown) => err as Error,
    );
    // Failing the load (to be retried) is fine; loading Eva with her other address is not.
    if (!(loaded instanceof Error)) {
      const eva = loaded.rows.find((r) => r.source_id === evaId);
      // Not guessed either: a row marked unreadable keeps the stored contact (see upsertSourceContacts).
      if (eva?.read_error) expect(eva.email).toBeNull();
      else expect(eva?.email).toBe('eva.main@example.com');
    }
  });
});
