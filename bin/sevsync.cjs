#!/usr/bin/env node
// Runs the TypeScript CLI (src/cli/main.ts) through tsx so that `npx sevsync` works straight after `npm ci`.
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');

void main(process.argv).then((code) => {
  process.exitCode = code;
  // A failed command has nothing left to do: what a module it loaded keeps open (the metrics' collectors,
  // the Temporal runtime and its signal handlers) must not keep the process alive.
  if (code !== 0) process.exit(code);
});
