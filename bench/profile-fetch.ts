import { request } from 'undici';
import { z } from 'zod';
import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import { createSevdeskClient } from '../src/sevdesk/client';
import { Invoice } from '../src/sevdesk/schema';
import { mean } from './histories';

export interface FetchProfile {
  pages: number;
  /** Per page, ms: HTTP request until the whole body is read (the sandbox builds and serializes the page). */
  httpMs: number | null;
  bytes: number | null;
  /** Per page, ms: JSON.parse of that body. */
  parseMs: number | null;
  /** Per page, ms: client.listInvoices as the import calls it (HTTP, parse, zod validation, mapping). */
  clientMs: number | null;
  /** Per page, ms: the same fields as z.looseObject (every unknown key copied; the schema shipped before). */
  validateLooseMs: number | null;
  /** Per page, ms: the product's Invoice schema (z.object: unknown keys accepted and dropped). */
  validateStripMs: number | null;
}

/**
 * Splits the fetch of a 1,000-invoice page into the sandbox's share (HTTP round trip with the body), JSON.parse
 * and what the client adds (zod validation of every object). Pages spread over the whole data, each fetched
 * both ways, after the timed runs so that they cannot disturb them.
 */
export async function profileFetch(opts: {
  baseUrl: string;
  token: string;
  invoices: number;
  pages: number;
}): Promise<FetchProfile> {
  const client = createSevdeskClient({ baseUrl: opts.baseUrl, token: opts.token });
  const http: number[] = [];
  const parse: number[] = [];
  const viaClient: number[] = [];
  const bytes: number[] = [];
  const loose: number[] = [];
  const strip: number[] = [];
  const looseSchema = z.looseObject(Invoice.shape);
  const lastPage = Math.max(0, Math.floor(opts.invoices / IMPORT_PAGE_SIZE) - 1);
  for (let i = 0; i < opts.pages; i++) {
    const offset = Math.round((lastPage * i) / Math.max(1, opts.pages - 1)) * IMPORT_PAGE_SIZE;
    const url = `${opts.baseUrl}/Invoice?offset=${offset}&limit=${IMPORT_PAGE_SIZE}&countAll=true`;
    const t0 = performance.now();
    const res = await request(url, { headers: { authorization: opts.token, accept: 'application/json' } });
    const text = await res.body.text();
    const t1 = performance.now();
    const objects = (JSON.parse(text) as { objects: unknown[] }).objects;
    const t2 = performance.now();
    // Alternating order, so that neither schema always runs on a warmer heap.
    for (const [schema, into] of i % 2
      ? [[Invoice, strip] as const, [looseSchema, loose] as const]
      : [[looseSchema, loose] as const, [Invoice, strip] as const]) {
      const v0 = performance.now();
      for (const o of objects) schema.safeParse(o);
      into.push(performance.now() - v0);
    }
    const t2b = performance.now();
    await client.listInvoices({ offset, limit: IMPORT_PAGE_SIZE, countAll: true });
    const t3 = performance.now();
    const clientMs = t3 - t2b;
    http.push(t1 - t0);
    parse.push(t2 - t1);
    viaClient.push(clientMs);
    bytes.push(Buffer.byteLength(text));
  }
  return {
    pages: opts.pages,
    httpMs: mean(http),
    bytes: mean(bytes),
    parseMs: mean(parse),
    clientMs: mean(viaClient),
    validateLooseMs: mean(loose.slice(1)),
    validateStripMs: mean(strip.slice(1)),
  };
}
