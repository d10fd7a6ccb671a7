// The pages' stylesheet and scripts (src/server/static): read once when the server loads and served under a
// content-hashed name with a long cache, so the pages carry no inline code and the CSP allows only 'self'.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const DIR = path.join(__dirname, 'static');

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

export interface Asset {
  /** `/static/<name>.<hash>.<ext>`: a new file content is a new URL, so browsers may keep one forever. */
  url: string;
  type: string;
  body: Buffer;
}

function load(file: string): Asset {
  const body = readFileSync(path.join(DIR, file));
  const ext = path.extname(file);
  const type = TYPES[ext];
  if (!type) throw new Error(`no content type for static file ${file}`);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { url: `/static/${path.basename(file, ext)}.${hash}${ext}`, type, body };
}

export const ASSETS = {
  css: load('app.css'),
  /** The live refresh of a page's live region. */
  live: load('live.js'),
  /** Posts the code of a one-time sign-in link. */
  signInLink: load('sign-in-link.js'),
} as const;

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** GET /static/<name>.<hash>.<ext>: public (the sign-in page needs it too); any other name is a 404. */
export function registerAssets(app: FastifyInstance): void {
  const byUrl = new Map<string, Asset>(Object.values(ASSETS).map((a) => [a.url, a]));
  app.get('/static/:file', { config: { public: true }, schema: { hide: true } }, (req, reply) => {
    const asset = byUrl.get(`/static/${(req.params as { file: string }).file}`);
    if (!asset) return reply.callNotFound();
    return reply.header('cache-control', IMMUTABLE).type(asset.type).send(asset.body);
  });
}
