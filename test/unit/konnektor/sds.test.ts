/**
 * The Konnektor service without cards: connector.sds (validated against ServiceDirectory.xsd),
 * the WSDL files it points to, TLS (brainpool C.AK.AUT for TLS-1.2 brainpool clients, the RSA
 * certificate for everyone else, both chaining to the PKI root), client-certificate authentication
 * (4204), the admin call log — and a Konnektor that starts although no pcscd is there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as https from 'node:https';
import * as path from 'node:path';
import * as soap from 'soap';
import { loadOrCreatePki } from '../../../simulators/pki/hierarchy';
import { parseXml } from '../../../simulators/lib/xml';
import { contextXml, CTX, envelope, faultOf, NSX, request, soapCall, startFixture, validateResponse, validateXml, XSD, type Fixture } from './helpers';

let f: Fixture;

before(async () => {
  f = await startFixture({ vpcdFrom: 45700 });
});

after(async () => {
  await f?.stop();
});

const terminals = (ctx = contextXml()) => envelope(`<EVT:GetCardTerminals xmlns:EVT="${NSX.EVT}">${ctx}</EVT:GetCardTerminals>`);

test('GET /connector.sds is a valid ServiceDirectory listing every service version with its TLS endpoint and WSDL', async () => {
  const r = await request(`${f.url}/connector.sds`, { agent: f.agent });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /xml/);
  const v = validateXml(r.text, XSD.sds);
  assert.ok(v.ok, v.output);
  const root = parseXml(r.text);
  const text = r.text;
  assert.match(text, /<SDS:TLSMandatory>true<\/SDS:TLSMandatory>/);
  assert.match(text, /<SDS:ClientAutMandatory>false<\/SDS:ClientAutMandatory>/);
  assert.ok(root);
  const versions = [...text.matchAll(/<SI:Service Name="([^"]+)">|<SI:Version TargetNamespace="([^"]+)" Version="([^"]+)">/g)].map((m) => m[1] ?? `${m[3]}`);
  for (const expected of ['EventService', '7.2.0', 'CardService', '8.1.2', '8.2.1', 'CertificateService', '6.0.1', 'SignatureService', 'AuthSignatureService']) {
    assert.ok(versions.includes(expected), `${expected} in ${versions.join(', ')}`);
  }
  const endpoints = [...text.matchAll(/<SI:EndpointTLS Location="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(endpoints.includes(`${f.url}/ws/EventService`));
  // every WSDL location is served, with the soap:address pointing here
  const wsdls = [...text.matchAll(/<SI:WSDL Location="([^"]+)"/g)].map((m) => m[1]);
  for (const w of wsdls) {
    const got = await request(w, { agent: f.agent });
    assert.equal(got.status, 200, w);
    assert.match(got.text, new RegExp(`<soap:address location="${f.url.replace(/[.]/g, '\\.')}/ws/`), w);
  }
  assert.equal((await request(`${f.url}/wsdl/../../../etc/passwd`, { agent: f.agent })).status, 404);
  assert.equal((await request(`${f.url}/wsdl/conn/nope.wsdl`, { agent: f.agent })).status, 404);
});

test('a soap client built from the WSDL URL of connector.sds reaches the endpoint given there', async () => {
  const sds = (await request(`${f.url}/connector.sds`, { agent: f.agent })).text;
  const wsdlUrl = /<SI:WSDL Location="([^"]+EventService\.wsdl)"/.exec(sds)![1];
  const agent = f.agent;
  const client = await soap.createClientAsync(wsdlUrl, { wsdl_options: { httpsAgent: agent } });
  client.setSecurity({ addOptions: (o: Record<string, unknown>) => (o.httpsAgent = agent), toXML: () => '' } as unknown as soap.ISecurity);
  const [r] = await client.GetCardTerminalsAsync({ Context: { MandantId: CTX.mandantId, ClientSystemId: CTX.clientSystemId, WorkplaceId: CTX.workplaceId } });
  assert.equal(r.Status.Result, 'OK');
  const list = Array.isArray(r.CardTerminals.CardTerminal) ? r.CardTerminals.CardTerminal : [r.CardTerminals.CardTerminal];
  assert.deepEqual(list.map((t: { CtId: string }) => t.CtId), ['CT-A', 'CT-B']);
  assert.deepEqual(list.map((t: { Connected: boolean | string }) => String(t.Connected)), ['false', 'false'], 'no pcscd: terminals not connected');
});

test('TLS: brainpoolP256r1 C.AK.AUT for TLS-1.2 brainpool clients, the RSA certificate otherwise; both from the PKI', async () => {
  const peer = (extra: https.RequestOptions) =>
    new Promise<{ curve?: string; bits?: number; subject: string; issuer: string; protocol: string | null }>((resolve, reject) => {
      const req = https.get(`${f.url}/connector.sds`, { ca: f.rootPem, agent: false, ...extra }, (res) => {
        const sock = res.socket as import('node:tls').TLSSocket;
        const c = sock.getPeerCertificate();
        res.resume();
        res.on('end', () => resolve({ curve: c.asn1Curve, bits: c.bits, subject: String(c.subject.CN), issuer: String(c.issuer.CN), protocol: sock.getProtocol() }));
      });
      req.on('error', reject);
    });
  const bp = await peer({ ecdhCurve: 'brainpoolP256r1:prime256v1', maxVersion: 'TLSv1.2' });
  assert.equal(bp.curve, 'brainpoolP256r1');
  assert.equal(bp.protocol, 'TLSv1.2');
  assert.match(bp.issuer, /KOMP-CA/);
  const other = await peer({});
  assert.equal(other.bits, 2048);
  assert.match(other.issuer, /KOMP-CA/);
  // without the root as trust anchor the handshake fails
  await assert.rejects(peer({ ca: undefined }), /self-signed|unable to verify|certificate/i);
});

test('admin: recent calls with operation, context, fault code and time', async () => {
  await request(`${f.url}/__admin/calls`, { method: 'DELETE', agent: f.agent });
  await soapCall(f, '/ws/EventService', terminals(), undefined);
  await soapCall(f, '/ws/EventService', terminals(contextXml({ ...CTX, clientSystemId: 'nope' })), undefined);
  const r = JSON.parse((await request(`${f.url}/__admin/calls`, { agent: f.agent })).text) as { calls: Array<Record<string, unknown>> };
  assert.equal(r.calls.length, 2);
  assert.deepEqual(
    r.calls.map((c) => [c.operation, (c.context as { clientSystemId: string }).clientSystemId, c.faultCode ?? null, c.httpStatus]),
    [
      ['GetCardTerminals', 'PVS-1', null, 200],
      ['GetCardTerminals', 'nope', 4005, 500],
    ],
  );
  assert.match(String(r.calls[0].time), /^\d{4}-/);
  const limited = JSON.parse((await request(`${f.url}/__admin/calls?limit=1`, { agent: f.agent })).text) as { calls: unknown[] };
  assert.equal(limited.calls.length, 1);
  assert.equal((await request(`${f.url}/__admin/calls?limit=x`, { agent: f.agent })).status, 400);
  const overview = JSON.parse((await request(`${f.url}/__admin/konnektor`, { agent: f.agent })).text) as { pcsc: { connected: boolean }; cards: unknown[] };
  assert.equal(overview.pcsc.connected, false);
  assert.deepEqual(overview.cards, []);
});

test('client-certificate authentication: no certificate → 4204; a PKI client certificate → served', async () => {
  const g = await startFixture({ vpcdFrom: 45800, konnektor: { clientAuth: true, clientSystems: [{ id: 'PVS-1', certificateCn: 'PVS Praxis Ebert' }, 'AVS-1'] } });
  try {
    const sds = (await request(`${g.url}/connector.sds`, { agent: g.agent })).text;
    assert.match(sds, /<SDS:ClientAutMandatory>true</);
    const without = await soapCall(g, '/ws/EventService', terminals());
    assert.equal(faultOf(without.text).trace[0].code, 4204);
    assert.ok(validateResponse(without.text, XSD.event).ok);
    const pki = await loadOrCreatePki(path.join(g.tmp, 'pki'));
    const client = pki.issue({ profile: 'TLS-CLIENT', subject: { commonName: 'PVS Praxis Ebert' } });
    const other = pki.issue({ profile: 'TLS-CLIENT', subject: { commonName: 'Somebody else' } });
    const withCert = (c: typeof client, extra: https.AgentOptions = {}) => new https.Agent({ ca: g.rootPem, key: c.privateKeyPem, cert: c.certificatePem, ...extra });
    // a brainpool client key signs in TLS 1.2 (OpenSSL 3.0 has no brainpool signature schemes for TLS 1.3)
    const tls12 = { maxVersion: 'TLSv1.2', ecdhCurve: 'brainpoolP256r1:prime256v1' } as const;
    const ok = await request(`${g.url}/ws/EventService`, { method: 'POST', agent: withCert(client, tls12), body: terminals(), headers: { 'content-type': 'text/xml' } });
    assert.equal(ok.status, 200, ok.text);
    const wrong = await request(`${g.url}/ws/EventService`, { method: 'POST', agent: withCert(other, tls12), body: terminals(), headers: { 'content-type': 'text/xml' } });
    assert.equal(faultOf(wrong.text).trace[0].code, 4204);
    // an RSA client key certified by the same PKI works with TLS 1.3 as well
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaCert = pki.issue({ profile: 'TLS-CLIENT', subject: { commonName: 'PVS Praxis Ebert' }, publicKey: rsa.publicKey });
    const rsaAgent = new https.Agent({ ca: g.rootPem, key: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }), cert: rsaCert.certificatePem });
    const okRsa = await request(`${g.url}/ws/EventService`, { method: 'POST', agent: rsaAgent, body: terminals(), headers: { 'content-type': 'text/xml' } });
    assert.equal(okRsa.status, 200, okRsa.text);
  } finally {
    await g.stop();
  }
});
