import { test } from 'node:test';
import assert from 'node:assert/strict';

// bin/bootstrap.js is plain JavaScript (it runs before npm install).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bootstrap = require('../../../bin/bootstrap') as {
  DEBIAN_PACKAGES: string[];
  planDebianPackages(missing: string[], isRoot: boolean): { action: string; packages?: string[]; message?: string };
};

test('the bootstrap knows every Debian package the harness needs', () => {
  for (const p of ['pcscd', 'vsmartcard-vpcd', 'pcsc-tools', 'opensc', 'libpcsclite1', 'chromium', 'default-jre-headless', 'openssl', 'iproute2', 'util-linux', 'libxml2-utils']) {
    assert.ok(bootstrap.DEBIAN_PACKAGES.includes(p), p);
  }
});

test('nothing missing: nothing to do', () => {
  assert.deepEqual(bootstrap.planDebianPackages([], false), { action: 'none' });
});

test('as root, missing packages are installed', () => {
  assert.deepEqual(bootstrap.planDebianPackages(['pcscd', 'chromium'], true), { action: 'install', packages: ['pcscd', 'chromium'] });
});

test('not root: stop with the exact sudo apt-get line', () => {
  const plan = bootstrap.planDebianPackages(['pcscd', 'vsmartcard-vpcd'], false);
  assert.equal(plan.action, 'instruct');
  assert.match(plan.message ?? '', /^ {2}sudo apt-get update && sudo apt-get install -y --no-install-recommends pcscd vsmartcard-vpcd$/m);
});
