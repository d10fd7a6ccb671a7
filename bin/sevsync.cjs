#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so that `npx sevsync` works straight after `npm ci`.
require('tsx/cjs');
require('../src/client.ts');
