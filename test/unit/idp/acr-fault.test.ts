/**
 * The IDP's acr fault (admin.ts POST /__admin/faults {acr}): access tokens stay correctly signed and
 * encrypted but carry a lower authentication level; the Fachdienst refuses them with production's 401
 * (A_18923: "JWT has invalid format" + WWW-Authenticate), accepts the normal gematik-ehealth-loa-high
 * token, and the fault is undone with {acr: null}.
 */
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { WWW_AUTHENTICATE_INVALID_TOKEN } from '../../../simulators/fachdienst/access-token';
import { PROFESSION_OID } from '../../../simulators/fachdienst/roles';
import { ACR_HIGH } from '../../../simulators/lib/idp-protocol';
import { bp256PublicKeyFromJwk } from '../../../simulators/lib/bp256';
import { verifyJws } from '../../../simulators/lib/jose';
import { issueTestSigner, type TestSigner } from '../../../simulators/idp/testing/software-signer';
import { startFdFixture, type FdFixture } from '../fachdienst/helpers';
import { createParameters, fhir, outcomeTexts } from '../fachdienst/workflow-helpers';
import { admin, discover, keys, login } from './helpers';

const SUBSTANTIAL = 'gematik-ehealth-loa-substantial';
let fx: FdFixture;
let smcb: TestSigner;

before(async () => {
  fx = await startFdFixture();
  smcb = issueTestSigner(fx.idpFx.pkiService.pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.praxisArzt });
});
after(async () => {
  await admin(fx.idpFx, 'POST', '/faults', { acr: null }).catch(() => undefined);
  await fx?.stop();
});

test('admin: {acr} validated; GET shows the injected acr only while it is set; ocspUnreachable untouched', async () => {
  for (const bad of [{}, { acr: 5 }, { acr: '' }, { acr: SUBSTANTIAL, other: true }, { ocspUnreachable: 'yes' }]) {
    assert.equal((await admin(fx.idpFx, 'POST', '/faults', bad)).status, 400, JSON.stringify(bad));
  }
  assert.deepEqual((await admin(fx.idpFx, 'GET', '/faults')).json(), { ocspUnreachable: false });
  assert.deepEqual((await admin(fx.idpFx, 'POST', '/faults', { acr: SUBSTANTIAL })).json(), { ocspUnreachable: false, acr: SUBSTANTIAL });
  assert.deepEqual((await admin(fx.idpFx, 'POST', '/faults', { acr: null })).json(), { ocspUnreachable: false });
});

test('a token with acr substantial is signed by the IDP and refused by the Fachdienst with 401 "JWT has invalid format"; acr high is accepted', async () => {
  assert.equal((await admin(fx.idpFx, 'POST', '/faults', { acr: SUBSTANTIAL })).status, 200);
  let low;
  try {
    low = await login(fx.idpFx, smcb.signer);
  } finally {
    await admin(fx.idpFx, 'POST', '/faults', { acr: null });
  }
  assert.equal(low.access.acr, SUBSTANTIAL);
  assert.equal(low.id.acr, ACR_HIGH, 'only the access token is affected');
  const sig = bp256PublicKeyFromJwk((await keys(fx.idpFx, await discover(fx.idpFx))).sig);
  assert.doesNotThrow(() => verifyJws(low.accessJws, sig, { algorithms: ['BP256R1'] }), 'the low-acr token carries a valid IDP signature');
  const refused = await fhir(fx, low.accessJws, 'POST', '/Task/$create', createParameters(160));
  assert.equal(refused.status, 401, refused.body);
  assert.deepEqual(outcomeTexts(refused.body), ['JWT has invalid format']);
  assert.equal(refused.headers['www-authenticate'], WWW_AUTHENTICATE_INVALID_TOKEN);

  const high = await login(fx.idpFx, smcb.signer);
  assert.equal(high.access.acr, ACR_HIGH);
  const ok = await fhir(fx, high.accessJws, 'POST', '/Task/$create', createParameters(160));
  assert.equal(ok.status, 201, ok.body);
});
