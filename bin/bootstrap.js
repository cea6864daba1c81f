#!/usr/bin/env node
// Idempotent bootstrap of the harness on a fresh Debian machine with Node 20 + npm.
//
//  1. npm packages: installed with `npm ci` when node_modules is missing or
//     package-lock.json changed since the last install (stamp file).
//  2. Debian packages the harness needs: installed with apt-get when running
//     as root; otherwise the exact `sudo apt-get install …` line is printed and
//     the bootstrap stops with exit code 3.
//
// Plain JavaScript without dependencies: it must run before `npm install`.
// Environment: TI_SKIP_APT=1 skips the Debian step (you manage packages yourself).
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DEBIAN_PACKAGES = [
  'pcscd',
  'vsmartcard-vpcd',
  'pcsc-tools',
  'opensc',
  'libpcsclite1',
  'chromium',
  'default-jre-headless',
  'openssl',
  'iproute2', // ip: the loopback quick-ACK route for fast vpcd round trips (docs/pcsc.md)
  'util-linux', // unshare/setpriv: the harness's private pcscd mount namespace
  'libxml2-utils', // xmllint: validates the Konnektor's SOAP messages against the gematik XSDs
  'dmtx-utils', // dmtxread: independent check that our printed E-Rezept DataMatrix codes read (docs/datamatrix.md)
];
const STAMP = path.join(ROOT, 'node_modules', '.ti-harness-install-stamp');

function log(msg) {
  process.stdout.write(`[bootstrap] ${msg}\n`);
}

class BootstrapError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major !== 20 || minor < 20) {
    throw new BootstrapError(`Node.js 20.20 or newer 20.x is required (found ${process.versions.node}).`);
  }
}

function lockHash() {
  const h = crypto.createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) {
    const p = path.join(ROOT, f);
    if (fs.existsSync(p)) h.update(fs.readFileSync(p));
  }
  return h.digest('hex');
}

function ensureNpmPackages() {
  const want = lockHash();
  const have = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
  if (have === want) {
    log('npm packages: up to date');
    return;
  }
  const hasLock = fs.existsSync(path.join(ROOT, 'package-lock.json'));
  const args = hasLock ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  log(`npm packages: ${fs.existsSync(path.join(ROOT, 'node_modules')) ? 'outdated' : 'missing'}, running npm ${args[0]} …`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new BootstrapError(`npm ${args[0]} failed (exit ${r.status}).`);
  fs.writeFileSync(STAMP, `${want}\n`);
  log('npm packages: installed');
}

function isInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /install ok installed/.test(r.stdout);
}

/**
 * Decides what to do about missing Debian packages (pure, for tests):
 * nothing, install them (root), or stop with the exact command to run (not root).
 */
function planDebianPackages(missing, isRoot) {
  if (missing.length === 0) return { action: 'none' };
  if (isRoot) return { action: 'install', packages: missing };
  return {
    action: 'instruct',
    message: [
      `Debian packages missing: ${missing.join(' ')}`,
      'The harness needs them (PC/SC stack, virtual card reader, browser, Java for Allure). Install them with:',
      '',
      `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
      '',
      'then run the command again.',
    ].join('\n'),
  };
}

function ensureDebianPackages() {
  if (process.env.TI_SKIP_APT === '1') {
    log('Debian packages: skipped (TI_SKIP_APT=1)');
    return;
  }
  const hasDpkg = spawnSync('dpkg-query', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!hasDpkg) {
    throw new BootstrapError(
      `This is not a Debian-like system (no dpkg-query). Install these packages yourself, then run with TI_SKIP_APT=1:\n  ${DEBIAN_PACKAGES.join(' ')}`,
      3,
    );
  }
  const missing = DEBIAN_PACKAGES.filter((p) => !isInstalled(p));
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const plan = planDebianPackages(missing, isRoot);
  if (plan.action === 'none') {
    log('Debian packages: all present');
    return;
  }
  if (plan.action === 'instruct') throw new BootstrapError(plan.message, 3);
  log(`Debian packages: installing ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  if (update.status !== 0) throw new BootstrapError(`apt-get update failed (exit ${update.status}).`);
  const install = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
  if (install.status !== 0) throw new BootstrapError(`apt-get install failed (exit ${install.status}).`);
  const still = missing.filter((p) => !isInstalled(p));
  if (still.length) throw new BootstrapError(`still missing after apt-get install: ${still.join(' ')}`);
  log('Debian packages: installed');
}

function bootstrap() {
  checkNode();
  ensureNpmPackages();
  ensureDebianPackages();
}

module.exports = { bootstrap, BootstrapError, DEBIAN_PACKAGES, planDebianPackages, lockHash };

if (require.main === module) {
  try {
    bootstrap();
  } catch (e) {
    process.stderr.write(`[bootstrap] ${e.message}\n`);
    process.exit(e.exitCode || 1);
  }
}
