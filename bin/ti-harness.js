#!/usr/bin/env node
// ti-harness CLI entry: runs cli/main.ts through ts-node (transpile-only).
'use strict';
const path = require('node:path');
try {
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
} catch (e) {
  process.stderr.write('ti-harness: dependencies are not installed. Run `npm start` (or `npm ci`) first.\n');
  process.exit(2);
}
require('../cli/main')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((e) => {
    process.stderr.write(`ti-harness: ${e && e.message ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
