// The page for what went wrong: a title and the message as an alert.
import { esc } from '../format';
import type { PageContext } from './layout';
import { alert, layout } from './layout';

export function errorPage(ctx: PageContext, opts: { title: string; message: string }): string {
  return layout(ctx, {
    title: opts.title,
    current: null,
    body: `<h1>${esc(opts.title)}</h1>${alert(opts.message)}`,
  });
}
