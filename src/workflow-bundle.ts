// Where the workflow code is, for whatever bundles it (the worker at start, `npm run build:workflows` for the
// image, the tests and the benches).
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The workflows' entry: the TypeScript source (tsx, vitest), or what a compiled layout resolves to. */
export function workflowsPath(): string {
  const source = path.join(__dirname, 'workflows', 'index.ts');
  return existsSync(source) ? source : require.resolve('./workflows');
}
