/** The environment's fachdienst section: defaults, the local file, validation, HTTPS URL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ERP_AUDIENCE, loadEnvironment, resolveEnvironment } from '../../../simulators/lib/config';

test('defaults: audience of the idp e-rezept scope, VAU on, revocation check on, 1 MB; simulated Fachdienst over https', () => {
  const env = resolveEnvironment({ name: 't' }, '/tmp/t.yaml');
  assert.deepEqual(env.fachdienst, { audience: ERP_AUDIENCE, vau: true, checkRevocation: true, maxBodyBytes: 1048576 });
  assert.equal(env.services.fachdienst.url, 'https://127.0.0.1:8443');
  const own = resolveEnvironment({ name: 't', idp: { scopes: [{ scope: 'e-rezept', audience: 'https://erp.example/', claims: [] }] } }, '/tmp/t.yaml');
  assert.equal(own.fachdienst.audience, 'https://erp.example/');
});

test('config/environments/local.yaml has the fachdienst section', () => {
  const env = loadEnvironment('local', {});
  assert.equal(env.fachdienst.vau, true);
  assert.equal(env.fachdienst.checkRevocation, true);
  assert.equal(env.fachdienst.audience, env.idp.scopes.find((s) => s.scope === 'e-rezept')?.audience);
});

test('invalid values are refused with the field named', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ vau: 'yes' }, /fachdienst\.vau/],
    [{ checkRevocation: 1 }, /fachdienst\.checkRevocation/],
    [{ maxBodyBytes: 10 }, /fachdienst\.maxBodyBytes/],
    [{ audience: 'not a uri' }, /fachdienst\.audience/],
    [{ tls: false }, /fachdienst\.tls is not a known field/],
  ];
  for (const [fachdienst, re] of bad) {
    assert.throws(() => resolveEnvironment({ name: 't', fachdienst } as never, '/tmp/t.yaml'), (e: unknown) => e instanceof ConfigError && re.test((e as Error).message));
  }
});
