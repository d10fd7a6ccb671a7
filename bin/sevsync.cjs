#!/usr/bin/env node
// Runs the TypeScript CLI (src/cli/main.ts) through tsx so that `npx sevsync` works straight after `npm ci`.
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');

void main(process.argv).then((code) => {
  process.exitCode = code;
});
