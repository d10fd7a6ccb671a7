// The frame of every page: head with the stylesheet, the header with the account's navigation, and the
// scripts a page asks for. No inline code: style and scripts are the files of ../assets.ts.
import { ASSETS } from '../assets';
import type { Asset } from '../assets';
import { esc } from '../format';

export interface PageContext {
  /** The account the page is about; '' on the pages before one is chosen (no navigation then). */
  account: string;
}

export interface LayoutOptions {
  title: string;
  current: 'interface' | 'customers' | null;
  body: string;
  /** Loaded at the end of the body, in this order. */
  scripts?: Asset[];
}

export function layout(ctx: PageContext, opts: LayoutOptions): string {
  const a = encodeURIComponent(ctx.account);
  const nav =
    ctx.account === ''
      ? ''
      : `<nav aria-label="Konto" class="nav">
  <a href="/ui/accounts/${a}/interface"${ctx.account && opts.current === 'interface' ? ' aria-current="page"' : ''}>Mein Konto – Einstellungen – Schnittstellen</a>
  <a href="/ui/accounts/${a}/customers"${opts.current === 'customers' ? ' aria-current="page"' : ''}>Kunden</a>
</nav>
<form method="post" action="/ui/sign-out" class="signout"><button class="secondary" type="submit">Abmelden</button></form>`;
  const scripts = (opts.scripts ?? []).map((s) => `<script src="${esc(s.url)}"></script>`).join('\n');
  return `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(opts.title)} – OneCockpit</title>
<link rel="stylesheet" href="${esc(ASSETS.css.url)}">
</head>
<body>
<header><strong>OneCockpit</strong>${ctx.account ? `<span>Konto ${esc(ctx.account)}</span>` : ''}${nav}</header>
<main>
${opts.body}
</main>
${scripts}
</body>
</html>`;
}

/** An error above a form (read out at once). */
export const alert = (message: string | undefined) =>
  message ? `<div class="alert" role="alert">${esc(message)}</div>` : '';

/** What just happened (read out politely). */
export const note = (message: string | undefined) =>
  message ? `<div class="note" role="status">${esc(message)}</div>` : '';
