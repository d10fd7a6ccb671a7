// mTLS to Temporal for real: a TLS front (Node's tls server, client certificates required, signed by a test CA)
// before the dev server, and the client (connectApp) and the worker's NativeConnection connecting through it
// with the settings parsed from TEMPORAL_TLS_*. Without the client certificate the front refuses.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp } from '../../src/app';
import { ConfigError } from '../../src/config';
import { parseTemporalSettings, temporalConnectionOptions } from '../../src/temporal/connection';
import { testConfig } from '../helpers/env';
import type { TestCerts } from '../helpers/tls-certs';
import { TLS_SERVER_NAME, hasOpenssl, makeTestCerts } from '../helpers/tls-certs';

describe.skipIf(!hasOpenssl())('Temporal over mTLS (needs the openssl CLI)', () => {
  let certs: TestCerts;
  let front: tls.Server;
  let address: string;
  const clients: string[] = [];

  beforeAll(async () => {
    certs = makeTestCerts();
    const [host, port] = testConfig().temporalAddress.split(':') as [string, string];
    front = tls.createServer(
      {
        key: readFileSync(certs.serverKey),
        cert: readFileSync(certs.serverCert),
        ca: readFileSync(certs.caCert),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        clients.push(String(socket.getPeerCertificate().subject?.CN));
        const upstream = net.connect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    front.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => front?.close(resolve));
    certs?.remove();
  });

  const settings = (withClientCert: boolean) =>
    parseTemporalSettings(
      {
        TEMPORAL_TLS_CA: certs.caCert,
        TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
        ...(withClientCert ? { TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.clientKey } : {}),
      },
      ConfigError,
    );

  it('the client connects with the client certificate, CA bundle and server name', async () => {
    const app = await connectApp(testConfig({ temporalAddress: address, temporal: settings(true) }));
    try {
      const info = await app.temporal.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await app.close();
    }
    expect(clients).toContain('client');
  });

  it("the worker's NativeConnection connects with the same options", async () => {
    const connection = await NativeConnection.connect(temporalConnectionOptions(address, settings(true)));
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
  });

  it('without the client certificate the TLS front refuses, and the error says how it was connecting', async () => {
    const err = await connectApp(testConfig({ temporalAddress: address, temporal: settings(false) })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(`cannot reach the Temporal server at ${address} (TEMPORAL_ADDRESS, TLS,`);
    expect(err?.message).toContain('Check the TEMPORAL_TLS_* settings.');
  });
});
