// What the JSON routes share: the error replies every route may give, the shape of a route under
// /api/accounts/:account, and the ETag revalidation of the polled reads.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccountParams, ErrorBody } from './schemas';

export const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  503: ErrorBody,
};

/**
 * A weak ETag from the answer as serialized, and `cache-control: no-cache` (keep it, but ask again): an
 * If-None-Match that matches gets 304 without a body. A route's onSend hook, so it runs after the server's
 * onRequest hook that sets `no-store`.
 */
export async function revalidate(req: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (reply.statusCode !== 200 || typeof payload !== 'string') return payload;
  const etag = `W/"${createHash('sha256').update(payload).digest('base64url').slice(0, 32)}"`;
  void reply.header('etag', etag).header('cache-control', 'no-cache');
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const asked = req.headers['if-none-match'];
  if (asked && asked.split(',').some((t) => t.trim() === '*' || opaque(t) === opaque(etag))) {
    void reply.code(304).removeHeader('content-type').removeHeader('content-length');
    return null;
  }
  return payload;
}

/** A route under /api/accounts/:account: its OpenAPI summary and tag, the account parameter, the error replies. */
export function accountRoute<S extends { summary: string; response: object }>(
  tag: string,
  { summary, ...schema }: S,
) {
  return {
    schema: {
      summary,
      tags: [tag],
      params: AccountParams,
      ...schema,
      response: { ...schema.response, ...errors },
    },
  };
}
