/**
 * The Fachdienst's transport, authentication and routing skeleton end to end over real TLS:
 * VAU round trip with a client written from the public protocol description (helpers.ts), the outer
 * errors as production distinguishes them, inner errors as OperationOutcome, access-token checks
 * against a real IDP (software AUT signers), the role allow-list, the Userpseudonym, the lib
 * VauClient, and the explicit plain-HTTPS mode.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { generateBp256KeyPair } from '../../../simulators/lib/bp256';
import { decodeJws, payloadJson, signJws } from '../../../simulators/lib/jose';
import { VauClient } from '../../../simulators/lib/vau-client';
import { issueTestSigner } from '../../../simulators/idp/testing/software-signer';
import { FhirError } from '../../../simulators/fachdienst/outcome';
import type { FhirRouteModule } from '../../../simulators/fachdienst/fhir-router';
import { metadataRoutes } from '../../../simulators/fachdienst/routes/metadata';
import { OPERATION_ROLES, PROFESSION_OID } from '../../../simulators/fachdienst/roles';
import { WWW_AUTHENTICATE_INVALID_TOKEN } from '../../../simulators/fachdienst/access-token';
import { APP_CLIENT, login, request as idpRequest, type IdpFixture } from '../idp/helpers';
import { startIdpFixture } from '../idp/helpers';
import {
  OUTER_HEADERS,
  eciesEncrypt,
  get,
  innerHttp,
  openResponse,
  publicPointOf,
  rawRequest,
  sealRequest,
  startFdFixture,
  vauCall,
  type FdFixture,
} from './helpers';

/** Test-only routes: a prescriber-only operation and handlers that fail on purpose. */
const testRoutes: FhirRouteModule = (router) => {
  router.register(
    {
      method: 'POST',
      pattern: '/Task/$create',
      roles: OPERATION_ROLES.createTask,
      operation: 'Task.$create',
      handler: (req) => ({ status: 201, body: JSON.stringify({ caller: req.auth.caller, oid: req.auth.professionOID, bytes: req.body.length }), contentType: 'application/json' }),
    },
    {
      method: 'POST',
      pattern: '/Task/:id/$close',
      roles: OPERATION_ROLES.closeTask,
      operation: 'Task.$close',
      handler: (req) => {
        throw new FhirError(403, 'No or invalid secret provided for Task', { vauErrorCode: 'brute_force', diagnostics: req.params.id });
      },
    },
    {
      method: 'GET',
      pattern: '/Task/:id',
      roles: OPERATION_ROLES.getTask,
      operation: 'Task.read',
      handler: () => {
        throw new Error('database on fire, patient Jonas Keller X123456789');
      },
    },
  );
};

let idpFx: IdpFixture;
let fx: FdFixture;
let practice: string; // Praxis Arzt (SMC-B) access token
let pharmacy: string; // Öffentliche Apotheke
let insured: string; // eGK
let insuredSub: string;

before(async () => {
  idpFx = await startIdpFixture();
  fx = await startFdFixture({ idpFx, routeModules: [metadataRoutes, testRoutes] });
  const pki = idpFx.pkiService.pki;
  practice = (await login(idpFx, issueTestSigner(pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.praxisArzt }).signer)).accessJws;
  pharmacy = (await login(idpFx, issueTestSigner(pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.oeffentlicheApotheke }).signer)).accessJws;
  const l = await login(idpFx, issueTestSigner(pki, { profile: 'C.CH.AUT' }).signer, APP_CLIENT);
  insured = l.accessJws;
  insuredSub = l.access.sub;
});
after(async () => {
  await fx?.stop();
  await idpFx?.stop();
});

function outerJson(r: { body: Buffer }): Record<string, unknown> {
  return JSON.parse(r.body.toString('utf8'));
}

test('VAU round trip: GET /metadata through the VAU with a client written from the protocol description', async () => {
  const { outer, inner, requestId } = await vauCall(fx, practice, get(practice, '/metadata'));
  assert.equal(outer.status, 200);
  assert.match(String(outer.headers['content-type']), /^application\/octet-stream/);
  assert.equal(inner.requestId, requestId, 'the response names the request id');
  assert.equal(inner.status, 200);
  assert.match(inner.headers['content-type'], /^application\/fhir\+xml/);
  assert.match(inner.body, /<CapabilityStatement xmlns="http:\/\/hl7.org\/fhir">/);
  assert.match(inner.body, /<type value="Task"\/>.*<name value="create"\/>/s, 'registered operations appear');
  assert.match(String(outer.headers.userpseudonym), /^[0-9a-f]{32}$/);
  // The VAU certificate comes from GET /VAUCertificate and is a C.FD.ENC of our PKI.
  const cert = await rawRequest(fx, 'GET', `${fx.fd.url}/VAUCertificate`, {});
  assert.equal(cert.status, 200);
  assert.equal(cert.headers['content-type'], 'application/pkix-cert');
  assert.deepEqual(publicPointOf(cert.body), fx.vauPublicPoint);
  assert.ok(idpFx.pkiService.pki.issuerOf(cert.body), 'issued by the simulated PKI');
});

test('GET /VAUCertificateOCSPResponse: a successful OCSP response of the PKI for the VAU certificate', async () => {
  const r = await rawRequest(fx, 'GET', `${fx.fd.url}/VAUCertificateOCSPResponse`, {});
  assert.equal(r.status, 200, r.body.toString('utf8'));
  assert.equal(r.headers['content-type'], 'application/ocsp-response');
  const { parseOcspResponse } = await import('../../../simulators/lib/ocsp');
  const p = parseOcspResponse(r.body);
  assert.equal(p.responseStatus, 'successful');
  assert.equal(p.responses[0].certStatus, 'good');
});

test('GET /metadata plain (no VAU, no token): XML by default, JSON by Accept or _format', async () => {
  const xml = await rawRequest(fx, 'GET', `${fx.fd.url}/metadata`, {});
  assert.equal(xml.status, 200);
  assert.match(xml.body.toString('utf8'), /<CapabilityStatement/);
  const js = await rawRequest(fx, 'GET', `${fx.fd.url}/metadata`, { accept: 'application/fhir+json' });
  assert.equal(JSON.parse(js.body.toString('utf8')).resourceType, 'CapabilityStatement');
  const fmt = await rawRequest(fx, 'GET', `${fx.fd.url}/metadata?_format=json`, {});
  assert.equal(JSON.parse(fmt.body.toString('utf8')).resourceType, 'CapabilityStatement');
});

test('outer errors: garbage, wrong key, truncated → 400 "vau decryption failed"; wrong method 405; headers 400/403; oversize 413', async () => {
  const good = sealRequest(practice, get(practice, '/metadata'), fx.vauPublicPoint);
  const post = (body: Buffer, headers: Record<string, string> = OUTER_HEADERS, up = '0') => rawRequest(fx, 'POST', `${fx.fd.url}/VAU/${up}`, headers, body);

  const garbage = await post(crypto.randomBytes(300));
  assert.equal(garbage.status, 400);
  assert.match(String(outerJson(garbage).error), /^vau decryption failed/);
  assert.equal(outerJson(garbage).status, 400);

  const otherKey = generateBp256KeyPair().publicKey.export({ type: 'spki', format: 'der' });
  const wrongKey = await post(eciesEncrypt(Buffer.from('1 x'), otherKey.subarray(otherKey.length - 65)));
  assert.equal(wrongKey.status, 400);
  assert.match(String(outerJson(wrongKey).error), /^vau decryption failed/);

  const truncated = await post(good.envelope.subarray(0, good.envelope.length - 5));
  assert.equal(truncated.status, 400);
  assert.match(String(outerJson(truncated).error), /^vau decryption failed/);

  const tooShort = await post(good.envelope.subarray(0, 40));
  assert.equal(tooShort.status, 400);

  const badInnerFields = await post(eciesEncrypt(Buffer.from(`1 ${practice} nothex key GET / HTTP/1.1\r\n\r\n`), fx.vauPublicPoint));
  assert.equal(badInnerFields.status, 400, 'malformed VAU fields inside a decryptable envelope are an outer error');

  const wrongMethod = await rawRequest(fx, 'GET', `${fx.fd.url}/VAU/0`, {});
  assert.equal(wrongMethod.status, 405);

  const noUser = await post(good.envelope, { ...OUTER_HEADERS, 'x-erp-user': '' });
  assert.equal(noUser.status, 400);
  assert.match(String(outerJson(noUser).error), /X-erp-user/);
  const badUser = await post(good.envelope, { ...OUTER_HEADERS, 'x-erp-user': 'x' });
  assert.equal(badUser.status, 400);

  const { 'user-agent': _ua, ...withoutUa } = OUTER_HEADERS;
  const noUa = await post(good.envelope, withoutUa);
  assert.equal(noUa.status, 403);

  const badType = await post(good.envelope, { ...OUTER_HEADERS, 'content-type': 'application/fhir+xml' });
  assert.equal(badType.status, 400);

  const badUp = await post(good.envelope, OUTER_HEADERS, 'not-a-pseudonym');
  assert.equal(badUp.status, 400);

  const oversize = await post(Buffer.alloc(fx.fd.config.maxBodyBytes + 65 * 1024 + 1, 1));
  assert.equal(oversize.status, 413);

  // After all that the VAU still answers a good request.
  const ok = await post(good.envelope);
  assert.equal(ok.status, 200);
  assert.equal(openResponse(ok.body, good.responseKey).status, 200);
});

test('inner errors are OperationOutcomes inside the encrypted answer: malformed HTTP, token mismatch, missing Authorization, unknown route, 413, 500', async () => {
  const lfOnly = Buffer.from(`GET /metadata HTTP/1.1\nAuthorization: Bearer ${practice}\n\n`, 'latin1');
  const malformed = await vauCall(fx, practice, lfOnly);
  assert.equal(malformed.inner.status, 400);
  assert.match(malformed.inner.body, /<code value="invalid"\/><details><text value="malformed inner HTTP request: /);

  const mismatch = await vauCall(fx, practice, get(pharmacy, '/metadata'));
  assert.equal(mismatch.inner.status, 400);
  assert.match(mismatch.inner.body, /<text value="Authorization header is invalid"\/>/);

  const noAuth = await vauCall(fx, practice, innerHttp('GET', '/metadata', { 'User-Agent': 'x' }));
  assert.equal(noAuth.inner.status, 400);
  assert.match(noAuth.inner.body, /Authorization header is missing/);

  const basic = await vauCall(fx, practice, innerHttp('GET', '/metadata', { Authorization: 'Basic abc' }));
  assert.equal(basic.inner.status, 400);
  assert.match(basic.inner.body, /invalid Authorization Bearer header field/);

  const unknown = await vauCall(fx, practice, get(practice, '/Nothing/here'));
  assert.equal(unknown.inner.status, 405);
  assert.match(unknown.inner.body, /<code value="not-supported"\/><details><text value="no matching handler found."\/>/);

  const big = await vauCall(fx, practice, Buffer.from(`POST /Task/$create HTTP/1.1\r\nAuthorization: Bearer ${practice}\r\nContent-Length: ${fx.fd.config.maxBodyBytes + 1}\r\n\r\n`, 'latin1'));
  assert.equal(big.inner.status, 413);

  const boom = await vauCall(fx, pharmacy, get(pharmacy, '/Task/160.000.000.000.001.05'));
  assert.equal(boom.inner.status, 500);
  assert.match(boom.inner.body, /<text value="Internal server error."\/>/);
  assert.doesNotMatch(boom.inner.body, /Jonas|X123456789|fire/, 'no internal details leak');
});

test('access token: valid → 200; expired by the Fachdienst clock, foreign signature, wrong aud → 401 with production texts and WWW-Authenticate', async () => {
  const valid = await vauCall(fx, practice, get(practice, '/metadata'));
  assert.equal(valid.inner.status, 200);

  fx.fd.clock.advance(60 * 60 * 1000);
  try {
    const expired = await vauCall(fx, practice, get(practice, '/metadata'));
    assert.equal(expired.inner.status, 401);
    assert.equal(expired.inner.headers['www-authenticate'], WWW_AUTHENTICATE_INVALID_TOKEN);
    assert.match(expired.inner.body, /<code value="unknown"\/><details><text value="JWT expired"\/>/);
  } finally {
    fx.fd.clock.reset();
  }

  const claims = payloadJson<Record<string, unknown>>(decodeJws(practice).payload);
  const foreign = signJws(claims, generateBp256KeyPair().privateKey, { typ: 'at+JWT' });
  const f = await vauCall(fx, foreign, get(foreign, '/metadata'));
  assert.equal(f.inner.status, 401);
  assert.match(f.inner.body, /JWT has invalid signature/);
  assert.equal(f.inner.headers['www-authenticate'], WWW_AUTHENTICATE_INVALID_TOKEN);

  const idpKey = idpFx.idp.context.keys.idpSignature.privateKey;
  const wrongAud = signJws({ ...claims, aud: 'https://other.example/' }, idpKey, { typ: 'at+JWT' });
  const a = await vauCall(fx, wrongAud, get(wrongAud, '/metadata'));
  assert.equal(a.inner.status, 401);
  assert.match(a.inner.body, /JWT has invalid aud claim/);

  const lowAcr = signJws({ ...claims, acr: 'gematik-ehealth-loa-substantial' }, idpKey, { typ: 'at+JWT' });
  const acr = await vauCall(fx, lowAcr, get(lowAcr, '/metadata'));
  assert.equal(acr.inner.status, 401, 'A_18923: only acr high');

  const { sub: _sub, ...noSub } = claims;
  const missing = signJws(noSub, idpKey, { typ: 'at+JWT' });
  const m = await vauCall(fx, missing, get(missing, '/metadata'));
  assert.equal(m.inner.status, 401);
  assert.match(m.inner.body, /JWT misses required claims/);

  const notJwt = 'abc.def';
  const nj = await vauCall(fx, notJwt, get(notJwt, '/metadata'));
  assert.equal(nj.inner.status, 401);
  assert.match(nj.inner.body, /JWT has invalid format/);
});

test('access token revoked at the IDP (RFC 7009, A_18857) is refused with 401 at once (introspection)', async () => {
  const l = await login(idpFx, issueTestSigner(idpFx.pkiService.pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.praxisArzt }).signer);
  assert.equal((await vauCall(fx, l.accessJws, get(l.accessJws, '/metadata'))).inner.status, 200);
  const rev = await idpRequest(idpFx, 'POST', l.doc.revocation_endpoint, { form: { token: l.accessJws } });
  assert.equal(rev.status, 200);
  const after = await vauCall(fx, l.accessJws, get(l.accessJws, '/metadata'));
  assert.equal(after.inner.status, 401);
  assert.match(after.inner.body, /no longer active at the IDP/);
});

test('role allow-list: Apotheke on $create → 403 "endpoint is forbidden for professionOID 1.2.276.0.76.4.54"; Praxis → 201; insured gets JSON by default', async () => {
  const body = Buffer.from('<Parameters xmlns="http://hl7.org/fhir"/>');
  const headers = (t: string) => ({ Authorization: `Bearer ${t}`, 'Content-Type': 'application/fhir+xml' });
  const denied = await vauCall(fx, pharmacy, innerHttp('POST', '/Task/$create', headers(pharmacy), body));
  assert.equal(denied.inner.status, 403);
  assert.match(denied.inner.body, /<code value="forbidden"\/><details><text value="endpoint is forbidden for professionOID 1\.2\.276\.0\.76\.4\.54"\/>/);

  const allowed = await vauCall(fx, practice, innerHttp('POST', '/Task/$create', headers(practice), body));
  assert.equal(allowed.inner.status, 201);
  assert.deepEqual(JSON.parse(allowed.inner.body), { caller: 'prescriber', oid: PROFESSION_OID.praxisArzt, bytes: body.length });

  const insuredDenied = await vauCall(fx, insured, innerHttp('POST', '/Task/$create', { Authorization: `Bearer ${insured}` }, body));
  assert.equal(insuredDenied.inner.status, 403);
  assert.match(insuredDenied.inner.headers['content-type'], /application\/fhir\+json/);
  const oo = JSON.parse(insuredDenied.inner.body);
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.equal(oo.issue[0].details.text, `endpoint is forbidden for professionOID ${PROFESSION_OID.versicherter}`);
});

test('VAU-Error-Code: a handler error with brute_force sets the outer header; the inner answer stays a 403 OperationOutcome', async () => {
  const r = await vauCall(fx, pharmacy, innerHttp('POST', '/Task/160.000.000.000.001.05/$close?secret=wrong', { Authorization: `Bearer ${pharmacy}` }));
  assert.equal(r.outer.headers['vau-error-code'], 'brute_force');
  assert.equal(r.inner.status, 403);
  assert.match(r.inner.body, /No or invalid secret provided for Task/);
  const ok = await vauCall(fx, practice, get(practice, '/metadata'));
  assert.equal(ok.outer.headers['vau-error-code'], undefined);
});

test('Userpseudonym: stable per user, sent back as path; a foreign pseudonym is answered with the caller\'s own', async () => {
  const first = await vauCall(fx, insured, get(insured, '/metadata'), { outerHeaders: { ...OUTER_HEADERS, 'x-erp-user': 'v' } });
  const up = String(first.outer.headers.userpseudonym);
  assert.match(up, /^[0-9a-f]{32}$/);
  const second = await vauCall(fx, insured, get(insured, '/metadata'), { up, outerHeaders: { ...OUTER_HEADERS, 'x-erp-user': 'v' } });
  assert.equal(second.outer.headers.userpseudonym, up, 'same user, same pseudonym');
  const other = await vauCall(fx, practice, get(practice, '/metadata'), { up });
  assert.notEqual(other.outer.headers.userpseudonym, up, 'another user gets their own pseudonym');
  assert.equal(other.inner.status, 200);
  assert.ok(fx.logs.some((l) => /pseudonym .* does not belong/.test(l)));
  assert.ok(insuredSub);
});

test('lib VauClient: checks the VAU certificate, round trip, keeps the Userpseudonym for the next request', async () => {
  const client = new VauClient({
    fachdienstUrl: fx.fd.url,
    trust: { rootPem: idpFx.pkiService.pki.rootCertificatePem, caPems: Object.values(idpFx.pkiService.pki.cas).map((c) => c.certificatePem) },
    accessToken: async () => practice,
    user: 'l',
    userAgent: 'ti-harness-test/1.0',
  });
  const cert = await client.vauCertificate();
  assert.deepEqual(cert.der, fx.fd.vau.certificate);
  const r = await client.request('GET', '/metadata');
  assert.equal(r.status, 200);
  assert.match(r.text(), /<CapabilityStatement/);
  const up = client.pseudonym;
  assert.match(String(up), /^[0-9a-f]{32}$/);
  const r2 = await client.request('POST', '/Task/$create', { body: '<Parameters xmlns="http://hl7.org/fhir"/>' });
  assert.equal(r2.status, 201);
  assert.equal(client.pseudonym, up);
  const denied = await new VauClient({
    fachdienstUrl: fx.fd.url,
    trust: { rootPem: idpFx.pkiService.pki.rootCertificatePem, caPems: Object.values(idpFx.pkiService.pki.cas).map((c) => c.certificatePem) },
    accessToken: async () => pharmacy,
    user: 'l',
    userAgent: 'ti-harness-test/1.0',
  }).request('POST', '/Task/$create', { body: '<Parameters/>' });
  assert.equal(denied.status, 403, 'inner errors are returned, not thrown');
});

test('plain mode (fachdienst.vau: false): FHIR directly over HTTPS, no /VAU endpoint, loud warning in the log', async () => {
  const plain = await startFdFixture({ idpFx, routeModules: [metadataRoutes, testRoutes], config: { vau: false } });
  try {
    assert.ok(plain.logs.some((l) => /WARNING.*PLAIN HTTPS WITHOUT the VAU/.test(l)), plain.logs.join('\n'));
    const noVau = await rawRequest(plain, 'POST', `${plain.fd.url}/VAU/0`, OUTER_HEADERS, Buffer.alloc(10));
    assert.equal(noVau.status, 400, 'no VAU endpoint: the path is treated as an inner request without Authorization');
    assert.match(noVau.body.toString('utf8'), /Authorization header is missing/);
    const created = await rawRequest(plain, 'POST', `${plain.fd.url}/Task/$create`, { authorization: `Bearer ${practice}`, 'content-type': 'application/fhir+xml' }, Buffer.from('<Parameters/>'));
    assert.equal(created.status, 201);
    const denied = await rawRequest(plain, 'POST', `${plain.fd.url}/Task/$create`, { authorization: `Bearer ${pharmacy}` }, Buffer.from('<Parameters/>'));
    assert.equal(denied.status, 403);
    assert.match(denied.body.toString('utf8'), /endpoint is forbidden for professionOID 1\.2\.276\.0\.76\.4\.54/);
  } finally {
    await plain.stop();
  }
});
