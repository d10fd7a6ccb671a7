// SEVSYNC_ENCRYPT_PAYLOADS end to end: a real worker (bundling its workflows at start with the encrypting
// failure converter) syncs a sandbox account, sevDesk then rejects the token; the histories Temporal keeps
// hold no e-mail address, no sevDesk error text and no token in clear, every payload but the search
// attributes is encrypted, and the keyring's codec (the one behind /codec/decode) reads them all back.
import { randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import Fastify from 'fastify';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { AppDeps } from '../../src/app';
import { connectApp, getStatus, syncNow } from '../../src/app';
import type { Config } from '../../src/config';
import { registerCodecEndpoint } from '../../src/server/codec';
import { accountSyncWorkflowId } from '../../src/shared';
import { ENCRYPTED_ENCODING, isEncryptedPayload } from '../../src/temporal/codec';
import { payloadCodecOf } from '../../src/temporal/data-converter';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { WorkerHandle } from '../../src/worker/create';
import { createWorker } from '../../src/worker/create';
import { addSandboxInterface, importSettled } from '../helpers/app-env';
import { eventually, randomId, testConfig } from '../helpers/env';
import { historyTexts } from '../helpers/history-text';

const key = { id: 'payload-test', key: randomBytes(32) };
const config: Config = testConfig({
  secretKey: key.key,
  secretKeys: [key],
  temporal: { tls: undefined, apiKey: undefined, encryptPayloads: true, codecCorsOrigin: undefined },
});
/** An error text of sevDesk (an error delivered with HTTP 200), and sevsync's words for a rejected token. */
const SEVDESK_ERROR_TEXTS = ['Simulated error delivered with HTTP 200', 'rejected the API token'];

let worker: WorkerHandle;
let running: Promise<void>;
let ops: AppDeps;
let sb: Sandbox;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // No prebuilt bundle: the worker bundles the workflows as in production, with the failure converter.
  worker = await createWorker({ config, namespaceRecheckMs: 0 });
  running = worker.run();
  ops = await connectApp(config);
  sb = await startSandbox({ seed: 5150, data: { invoices: 40 } });
}, 240_000);

afterAll(async () => {
  await ops?.close();
  worker?.shutdown();
  await running;
  await sb?.close();
});

type Json = unknown;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isPayload = (v: unknown): v is Payload =>
  typeof v === 'object' &&
  v !== null &&
  'metadata' in v &&
  typeof v.metadata === 'object' &&
  v.metadata !== null &&
  Object.values(v.metadata).every(isBytes);
/**
 * Never through a codec: search attributes (Temporal indexes them), and what the SDK core writes into its
 * markers itself: a `patched()` id, and a local activity's bookkeeping (seq, attempt, id, type, times; its
 * result is encoded).
 */
const notEncoded = (at: string, key: string) =>
  key === 'searchAttributes' ||
  (at.endsWith('.markerRecordedEventAttributes.details') && (key === 'patch-data' || key === 'data'));

/** Every payload of a history (outside what a codec never sees), where it sits. */
function payloadsOf(v: Json, at = '', out: { at: string; payload: Payload }[] = []) {
  if (isPayload(v)) out.push({ at, payload: v });
  else if (Array.isArray(v)) v.forEach((x, i) => payloadsOf(x, `${at}[${i}]`, out));
  else if (v && typeof v === 'object' && !isBytes(v))
    for (const [k, x] of Object.entries(v)) if (!notEncoded(at, k)) payloadsOf(x, `${at}.${k}`, out);
  return out;
}

/** A copy of the history with every encrypted payload decoded by the codec. */
async function decodedCopy(v: Json): Promise<Json> {
  const codec = payloadCodecOf(config);
  const walk = async (x: Json): Promise<Json> => {
    if (isPayload(x) && isEncryptedPayload(x)) return (await codec.decode([x]))[0];
    if (Array.isArray(x)) return Promise.all(x.map(walk));
    if (x && typeof x === 'object' && !isBytes(x))
      return Object.fromEntries(
        await Promise.all(Object.entries(x).map(async ([k, y]) => [k, await walk(y)])),
      );
    return x;
  };
  return walk(v);
}

async function historiesOf(accountId: string) {
  const main = await ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId)).fetchHistory();
  const children = (main.events ?? []).flatMap((e) => {
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    return id ? [id] : [];
  });
  const rest = await Promise.all(children.map((id) => ops.temporal.workflow.getHandle(id).fetchHistory()));
  return [main, ...rest];
}

describe('SEVSYNC_ENCRYPT_PAYLOADS', () => {
  it('keeps e-mails and sevDesk error texts out of the histories, and the codec reads them back', async () => {
    const accountId = randomId('enc');
    await addSandboxInterface(ops, accountId, sb);
    await importSettled(ops, accountId);
    await syncNow(ops, accountId, true);
    // sevDesk answers a sync with an error text: the quick sync fails with it (its marker keeps the failure),
    // the regular activity then syncs.
    sb.faults.add({ kind: 'error-200', path: '/Invoice', times: 1 });
    await syncNow(ops, accountId, true);
    expect(sb.faults.pending()).toEqual([]);

    // sevDesk rejects the token: the sync fails for good, and the workflow refuses the next request.
    sb.setToken(randomBytes(16).toString('hex'));
    await syncNow(ops, accountId, false);
    await eventually(async () => (await getStatus(ops, accountId)).state === 'error', 60_000, 'state error');
    // The client decrypts the workflow's answers: a caller still reads why.
    const refused = await syncNow(ops, accountId, true).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(refused?.message).toMatch(/rejected the API token/);

    const emails = [...sb.store.contacts()].flatMap((c) =>
      sb.store.communicationWays(c.id).flatMap((w) => (w.type === 'EMAIL' ? [w.value] : [])),
    );
    expect(emails.length).toBeGreaterThan(0);
    const histories = await historiesOf(accountId);
    expect(histories.length).toBeGreaterThanOrEqual(2); // the account run and its import

    let encrypted = 0;
    let failed = 0;
    let decodedText = '';
    for (const history of histories) {
      // What Temporal stores: no payload in clear, and nothing readable in any field.
      const payloads = payloadsOf(history);
      for (const { at, payload } of payloads) {
        const encoding = Buffer.from(payload.metadata?.[METADATA_ENCODING_KEY] ?? []).toString();
        expect(encoding, `payload at ${at}`).toBe(ENCRYPTED_ENCODING);
      }
      encrypted += payloads.length;
      const raw = historyTexts(history).join('\n');
      for (const email of emails) expect(raw.includes(email), 'an e-mail address in clear').toBe(false);
      expect(raw).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
      for (const text of SEVDESK_ERROR_TEXTS) expect(raw.includes(text), `"${text}" in clear`).toBe(false);
      expect(raw.includes(sb.token)).toBe(false);
      // Failures keep only the placeholder; their message is in the encrypted attributes.
      const failures = (history.events ?? []).flatMap((e) => {
        const f =
          e.activityTaskFailedEventAttributes?.failure ??
          e.markerRecordedEventAttributes?.failure ??
          e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure ??
          e.workflowExecutionFailedEventAttributes?.failure;
        return f ? [f] : [];
      });
      for (const f of failures) expect(f.message).toBe('Encoded failure');
      failed += failures.length;
      decodedText += historyTexts(await decodedCopy(history)).join('\n');
    }
    expect(encrypted).toBeGreaterThan(10);
    expect(failed).toBeGreaterThanOrEqual(2); // the quick sync's sevDesk error, the rejected token
    // Decoded, the histories say what happened: the account, and sevDesk's answer.
    expect(decodedText).toContain(`"accountId":"${accountId}"`);
    for (const text of SEVDESK_ERROR_TEXTS) expect(decodedText).toContain(text);
    expect(decodedText.includes(sb.token)).toBe(false);
  });

  it('serves the same decoding on /codec/decode for the Temporal UI', async () => {
    const app = Fastify();
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (req) => {
      req.principal = { account: null, via: 'bearer', actor: 'api-token' } as NonNullable<
        FastifyRequest['principal']
      >;
    });
    registerCodecEndpoint(app, { codec: payloadCodecOf(config), corsOrigin: undefined });
    const accountId = randomId('enc-ui');
    await addSandboxInterface(ops, accountId, await startSandbox({ seed: 5151, data: { invoices: 5 } }));
    const [history] = await historiesOf(accountId);
    const payloads = payloadsOf(history).map(({ payload }) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    }));
    expect(payloads.length).toBeGreaterThan(0);
    const res = await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads } });
    expect(res.statusCode).toBe(200);
    const text = res
      .json<{ payloads: { data?: string }[] }>()
      .payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString())
      .join('\n');
    expect(text).toContain(`"accountId":"${accountId}"`);
    await app.close();
  });
});
