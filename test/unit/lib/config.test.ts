import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnvironment, resolveEnvironment, ConfigError } from '../../../simulators/lib/config';
import { DEFAULT_PORTS } from '../../../simulators/lib/ports';

test('local environment simulates the PKI on its default port', () => {
  const env = loadEnvironment('local', {});
  assert.equal(env.name, 'local');
  assert.equal(env.services.pki.simulated, true);
  assert.equal(env.services.pki.port, DEFAULT_PORTS.pki);
  assert.equal(env.services.pki.url, `http://127.0.0.1:${DEFAULT_PORTS.pki}`);
});

test('TI_<SERVICE>_URL points a service elsewhere and marks it external', () => {
  const env = loadEnvironment('local', { TI_PKI_URL: 'https://pki.example.test:9443/' });
  assert.equal(env.services.pki.simulated, false);
  assert.equal(env.services.pki.url, 'https://pki.example.test:9443');
});

test('configuration errors are explained', () => {
  assert.throws(() => loadEnvironment('no-such-env', {}), ConfigError);
  assert.throws(() => resolveEnvironment({ services: { pkix: {} } }, 'x.yaml'), /unknown service\(s\) pkix/);
  assert.throws(() => resolveEnvironment({ services: { idp: { simulated: false } } }, 'x.yaml'), /external .* has no url/);
  assert.throws(() => resolveEnvironment({ services: { idp: { port: 70000 } } }, 'x.yaml'), /port must be/);
});

test('an environment can be loaded from a file path', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const path = require('node:path') as typeof import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-env-'));
  const file = path.join(dir, 'vendor.yaml');
  fs.writeFileSync(file, 'name: vendor\nservices:\n  idp:\n    simulated: false\n    url: https://idp.vendor.test\n  pki:\n    port: 9440\n');
  const env = loadEnvironment(file, {});
  assert.equal(env.name, 'vendor');
  assert.equal(env.services.idp.simulated, false);
  assert.equal(env.services.idp.url, 'https://idp.vendor.test');
  assert.equal(env.services.pki.url, 'http://127.0.0.1:9440');
  assert.throws(() => loadEnvironment(path.join(dir, 'missing.yaml'), {}), /environment file not found/);
  fs.rmSync(dir, { recursive: true, force: true });
});
