#!/usr/bin/env node
// npm run bench [name…]: runs bench/*.bench.ts through ts-node (transpile-only); see bench/run.ts.
'use strict';
const path = require('node:path');
try {
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
} catch (e) {
  process.stderr.write('npm run bench: dependencies are not installed. Run `npm ci` (or npm start) first.\n');
  process.exit(2);
}
require('../bench/run')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((e) => {
    process.stderr.write(`npm run bench: ${e && e.stack ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
