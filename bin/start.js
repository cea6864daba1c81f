#!/usr/bin/env node
// npm start: bootstrap (npm + Debian packages), then the main job
// (ti-harness run: start the simulated TI, run all features, write reports, stop).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { bootstrap } = require('./bootstrap');

try {
  bootstrap();
} catch (e) {
  process.stderr.write(`[bootstrap] ${e.message}\n`);
  process.exit(e.exitCode || 1);
}
const child = spawn(process.execPath, [path.join(__dirname, 'ti-harness.js'), 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
// Ctrl-C reaches the child through the process group; it stops its services and exits.
const forward = (sig) => () => child.kill(sig);
process.on('SIGINT', () => {});
process.on('SIGTERM', forward('SIGTERM'));
child.on('close', (code) => process.exit(code === null ? 1 : code));
