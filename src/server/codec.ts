// The remote codec endpoint for an operator's Temporal UI (or `temporal --codec-endpoint`): with payload
// encryption on, histories hold only ciphertext, and the UI sends the payloads it shows to POST /codec/decode
// (and what it sends to POST /codec/encode) in Temporal's codec server format, `{payloads: [{metadata: {k:
// base64}, data: base64}]}`. Only the backend's API token may use it: whoever can call it reads every
// history in clear. CORS lets the one configured UI origin call it from the browser (docs/temporal.md).
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config';
import { encryptsPayloads, payloadCodecOf } from '../temporal/data-converter';

export interface CodecEndpointOptions {
  codec: PayloadCodec;
  /** The Temporal UI's origin (SEVSYNC_CODEC_CORS_ORIGIN); undefined: no cross-origin calls. */
  corsOrigin: string | undefined;
  /** Largest request body (the UI sends a page of history's payloads at once); default 4 MiB. */
  bodyLimit?: number;
}

/** The endpoint's options from the configuration; undefined while payloads are not encrypted. */
export function codecEndpointOptions(config: Config): CodecEndpointOptions | undefined {
  if (!encryptsPayloads(config)) return undefined;
  return { codec: payloadCodecOf(config), corsOrigin: config.temporal?.codecCorsOrigin };
}

const PREFIX = '/codec';
const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const CodecBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).nullish(),
      data: base64.nullish(),
    }),
  ),
});
type JsonPayload = z.infer<typeof CodecBody>['payloads'][number];

const errorJson = (type: string, message: string) => ({ error: { type, message } });

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    ...(data === undefined || data === null ? {} : { data: Buffer.from(data, 'base64') }),
  };
}

function toJson({ metadata, data }: Payload): { metadata: Record<string, string>; data?: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    ...(data ? { data: Buffer.from(data).toString('base64') } : {}),
  };
}

/** The UI's origin gets the CORS headers, on every answer (a 401 or 403 too, so the UI can show it). */
function corsHeaders(req: FastifyRequest, reply: FastifyReply, corsOrigin: string | undefined): boolean {
  if (!corsOrigin || req.headers.origin !== corsOrigin) return false;
  void reply.header('access-control-allow-origin', corsOrigin);
  void reply.header('vary', 'Origin');
  return true;
}

function preflight(corsOrigin: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!corsHeaders(req, reply, corsOrigin)) {
      return reply
        .code(403)
        .send(
          errorJson(
            'forbidden',
            corsOrigin
              ? `cross-origin calls are allowed from ${corsOrigin} only (SEVSYNC_CODEC_CORS_ORIGIN)`
              : 'cross-origin calls are off: set SEVSYNC_CODEC_CORS_ORIGIN to the Temporal UI origin',
          ),
        );
    }
    void reply.header('access-control-allow-methods', 'POST, OPTIONS');
    void reply.header('access-control-allow-headers', 'Content-Type, Authorization, X-Namespace');
    void reply.header('access-control-max-age', '600');
    return reply.code(204).send();
  };
}

function transform(codec: PayloadCodec, op: 'encode' | 'decode') {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // The backend's API token only: a session (a coach's sign-in link, the pages) must not read histories.
    if (!(req.principal?.via === 'bearer' && req.principal.account === null)) {
      return reply
        .code(403)
        .send(
          errorJson(
            'forbidden',
            'the codec endpoint takes the API token only (Authorization: Bearer <token>)',
          ),
        );
    }
    const body = CodecBody.safeParse(req.body);
    if (!body.success) {
      const where = body.error.issues[0];
      return reply
        .code(400)
        .send(
          errorJson(
            'invalid_input',
            `expected {payloads: [{metadata: {key: base64}, data: base64}]}` +
              (where ? `: ${where.path.join('.')}: ${where.message}` : ''),
          ),
        );
    }
    let out: Payload[];
    try {
      out = await codec[op](body.data.payloads.map(fromJson));
    } catch (err) {
      // The codec's messages name key ids and never a key or a payload's content.
      return reply.code(400).send(errorJson(`${op}_failed`, (err as Error).message));
    }
    return reply.code(200).send({ payloads: out.map(toJson) });
  };
}

/**
 * POST /codec/decode and /codec/encode, and their CORS preflights (public: a browser sends them without the
 * Authorization header). Register it on the server whose auth hook sets `req.principal`.
 */
export function registerCodecEndpoint(app: FastifyInstance, opts: CodecEndpointOptions): void {
  const { codec, corsOrigin } = opts;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const onSend = async (req: FastifyRequest, reply: FastifyReply) => {
    corsHeaders(req, reply, corsOrigin);
  };
  for (const op of ['decode', 'encode'] as const) {
    app.options(
      `${PREFIX}/${op}`,
      { config: { public: true }, schema: { hide: true } },
      preflight(corsOrigin),
    );
    app.post(`${PREFIX}/${op}`, { bodyLimit, onSend, schema: { hide: true } }, transform(codec, op));
  }
}
