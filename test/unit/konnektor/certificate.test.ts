/**
 * CertificateService against real virtual cards and the PKI service: ReadCardCertificate (read
 * through PC/SC, compared with what the PKI issued) and VerifyCertificate (chain, validity, OCSP:
 * VALID / INVALID / INCONCLUSIVE, RoleList). Raw SOAP and the npm soap client from the WSDL; all
 * responses validated against the XSDs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as soap from 'soap';
import { buildCertificate, generateBrainpoolKeyPair, parseCertificate } from '../../../simulators/lib/x509';
import { loadOrCreatePki } from '../../../simulators/pki/hierarchy';
import { personaIdentity } from '../../../cards/index';
import { ACTION, contextXml, CTX, envelope, faultOf, NSX, responseBody, soapCall, startFixture, validateResponse, WSDL, XSD, type Fixture } from './helpers';

let f: Fixture;
const handles: Record<string, string> = {};

before(async () => {
  f = await startFixture({ vpcdFrom: 45300, insert: ['Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', 'Jonas Keller'], pkiService: true });
  for (const c of f.konnektor.context.cards.list()) handles[c.type] = c.handle;
});

after(async () => {
  await f?.stop();
});

async function read(handle: string, refs: string[], extra = '') {
  const body = envelope(
    `<CERT:ReadCardCertificate xmlns:CERT="${NSX.CERT}"><CONN:CardHandle xmlns:CONN="${NSX.CONN}">${handle}</CONN:CardHandle>${contextXml()}<CERT:CertRefList>${refs.map((r) => `<CERT:CertRef>${r}</CERT:CertRef>`).join('')}</CERT:CertRefList>${extra}</CERT:ReadCardCertificate>`,
  );
  const r = await soapCall(f, '/ws/CertificateService', body, `${ACTION.certificate}ReadCardCertificate`);
  const v = validateResponse(r.text, XSD.certificate);
  assert.ok(v.ok, `${v.output}\n${r.text}`);
  return r;
}

function certs(xml: string): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = {};
  for (const info of responseBody(xml).child('X509DataInfoList', NSX.CERTCMN)!.children('X509DataInfo', NSX.CERTCMN)) {
    const b64 = info.child('X509Data', NSX.CERTCMN)?.child('X509Certificate', NSX.CERTCMN)?.text();
    out[info.child('CertRef', NSX.CERTCMN)!.text()] = b64 ? Buffer.from(b64, 'base64') : undefined;
  }
  return out;
}

async function verify(der: Buffer, time?: string) {
  const body = envelope(
    `<CERT:VerifyCertificate xmlns:CERT="${NSX.CERT}">${contextXml()}<CERTCMN:X509Certificate xmlns:CERTCMN="${NSX.CERTCMN}">${der.toString('base64')}</CERTCMN:X509Certificate>${time ? `<CERT:VerificationTime>${time}</CERT:VerificationTime>` : ''}</CERT:VerifyCertificate>`,
  );
  const r = await soapCall(f, '/ws/CertificateService', body, `${ACTION.certificate}VerifyCertificate`);
  const v = validateResponse(r.text, XSD.certificate);
  assert.ok(v.ok, `${v.output}\n${r.text}`);
  const b = responseBody(r.text);
  return {
    status: r.status,
    text: r.text,
    result: b.child('VerificationStatus', NSX.CERT)?.child('VerificationResult', NSX.CERT)?.text(),
    roles: b.child('RoleList', NSX.CERT)?.children('Role', NSX.CERT).map((x) => x.text()) ?? [],
  };
}

const identityOpts = () => ({ pkiDir: path.join(f.tmp, 'pki'), cacheDir: path.join(f.tmp, 'cards') });

test('ReadCardCertificate reads the certificates the PKI issued for the card, through PC/SC', async () => {
  const hba = certs((await read(handles.HBA, ['C.AUT', 'C.QES', 'C.ENC', 'C.SIG'])).text);
  const id = personaIdentity('Dr. Hanna Ebert', identityOpts());
  assert.deepEqual(hba['C.QES'], id.certificates['C.HP.QES'].certificate);
  assert.deepEqual(hba['C.AUT'], id.certificates['C.HP.AUT'].certificate);
  assert.deepEqual(hba['C.ENC'], id.certificates['C.HP.ENC'].certificate);
  assert.equal(hba['C.SIG'], undefined, 'the HBA has no C.SIG: X509DataInfo without X509Data');
  const smcb = certs((await read(handles['SMC-B'], ['C.SIG'])).text);
  assert.deepEqual(smcb['C.SIG'], personaIdentity('Praxis Dr. Hanna Ebert', identityOpts()).certificates['C.HCI.OSIG'].certificate);
  const egk = certs((await read(handles.EGK, ['C.AUT', 'C.QES'])).text);
  assert.match(parseCertificate(egk['C.AUT'] as Buffer).subject, /K204617388/);
  assert.equal(egk['C.QES'], undefined);
  // RSA: the simulated cards are ECC-only
  assert.equal(certs((await read(handles.HBA, ['C.AUT'], '<CERT:Crypt>RSA</CERT:Crypt>')).text)['C.AUT'], undefined);
  // X509IssuerSerial: decimal serial number of the certificate
  const body = responseBody((await read(handles.HBA, ['C.QES'])).text);
  const serial = body.child('X509DataInfoList', NSX.CERTCMN)!.child('X509DataInfo', NSX.CERTCMN)!.child('X509Data', NSX.CERTCMN)!.child('X509IssuerSerial', NSX.CERTCMN)!.child('X509SerialNumber', NSX.CERTCMN)!.text();
  assert.equal(BigInt(serial).toString(16), BigInt(`0x${parseCertificate(hba['C.QES'] as Buffer).serialNumber}`).toString(16));
});

test('ReadCardCertificate faults: unknown CertRef, unknown handle, wrong element order', async () => {
  const bad = await soapCall(
    f,
    '/ws/CertificateService',
    envelope(`<CERT:ReadCardCertificate xmlns:CERT="${NSX.CERT}"><CONN:CardHandle xmlns:CONN="${NSX.CONN}">${handles.HBA}</CONN:CardHandle>${contextXml()}<CERT:CertRefList><CERT:CertRef>C.XYZ</CERT:CertRef></CERT:CertRefList></CERT:ReadCardCertificate>`),
    `${ACTION.certificate}ReadCardCertificate`,
  );
  assert.equal(faultOf(bad.text).trace[0].code, 4000);
  assert.equal(faultOf((await read('nope', ['C.AUT'])).text).trace[0].code, 4008);
  const order = await soapCall(
    f,
    '/ws/CertificateService',
    envelope(`<CERT:ReadCardCertificate xmlns:CERT="${NSX.CERT}">${contextXml()}<CONN:CardHandle xmlns:CONN="${NSX.CONN}">${handles.HBA}</CONN:CardHandle><CERT:CertRefList><CERT:CertRef>C.AUT</CERT:CertRef></CERT:CertRefList></CERT:ReadCardCertificate>`),
    `${ACTION.certificate}ReadCardCertificate`,
  );
  assert.equal(faultOf(order.text).trace[0].code, 4000);
});

test('VerifyCertificate: VALID with roles, INVALID when revoked, expired or foreign, INCONCLUSIVE without OCSP', async () => {
  const hba = certs((await read(handles.HBA, ['C.QES'])).text)['C.QES'] as Buffer;
  const ok = await verify(hba);
  assert.equal(ok.status, 200);
  assert.equal(ok.result, 'VALID');
  assert.deepEqual(ok.roles, ['1.2.276.0.76.4.30']);
  const smcb = await verify(certs((await read(handles['SMC-B'], ['C.AUT'])).text)['C.AUT'] as Buffer);
  assert.deepEqual([smcb.result, smcb.roles], ['VALID', ['1.2.276.0.76.4.50']]);
  // after its notAfter
  const expired = await verify(hba, '2099-01-01T00:00:00Z');
  assert.equal(expired.result, 'INVALID');
  // revoked through the PKI (same data directory as the PKI service)
  const pki = await loadOrCreatePki(path.join(f.tmp, 'pki'), { ocspUrl: `${f.pki!.url}/ocsp` });
  const victim = pki.issue({ profile: 'C.HP.AUT', subject: { givenName: 'Rita', surname: 'Revoked', commonName: 'Rita Revoked' } });
  assert.equal((await verify(victim.certificate)).result, 'VALID');
  pki.revoke(victim.serialNumber, 'keyCompromise');
  assert.equal((await verify(victim.certificate)).result, 'INVALID');
  // a certificate of nobody's PKI
  const keys = generateBrainpoolKeyPair();
  const dn = [{ type: 'CN', value: 'Foreign' }];
  const foreign = buildCertificate({ serialNumber: crypto.randomBytes(8), issuer: dn, subject: dn, notBefore: new Date(Date.now() - 3600e3), notAfter: new Date(Date.now() + 3600e3), publicKey: keys.publicKey, signingKey: keys.privateKey, extensions: [] } as never);
  assert.equal((await verify(foreign)).result, 'INVALID');
  // the AIA responder unreachable: the environment's PKI service answers instead
  const lost = pki.issue({ profile: 'C.HCI.AUT', ocspUrl: 'http://127.0.0.1:9/ocsp' });
  assert.equal((await verify(lost.certificate)).result, 'VALID');
  // not base64 / not a dateTime: syntax faults
  const notB64 = await soapCall(
    f,
    '/ws/CertificateService',
    envelope(`<CERT:VerifyCertificate xmlns:CERT="${NSX.CERT}">${contextXml()}<CERTCMN:X509Certificate xmlns:CERTCMN="${NSX.CERTCMN}">**</CERTCMN:X509Certificate></CERT:VerifyCertificate>`),
    `${ACTION.certificate}VerifyCertificate`,
  );
  assert.equal(faultOf(notB64.text).trace[0].code, 4000);
  const notTime = await soapCall(
    f,
    '/ws/CertificateService',
    envelope(`<CERT:VerifyCertificate xmlns:CERT="${NSX.CERT}">${contextXml()}<CERTCMN:X509Certificate xmlns:CERTCMN="${NSX.CERTCMN}">${hba.toString('base64')}</CERTCMN:X509Certificate><CERT:VerificationTime>yesterday</CERT:VerificationTime></CERT:VerifyCertificate>`),
    `${ACTION.certificate}VerifyCertificate`,
  );
  assert.equal(faultOf(notTime.text).trace[0].code, 4000);
});

test('the npm soap client built only from CertificateService_v6_0_1.wsdl: ReadCardCertificate and VerifyCertificate', async () => {
  const client = await soap.createClientAsync(WSDL.certificate, { endpoint: `${f.url}/ws/CertificateService` });
  const agent = f.agent;
  client.setSecurity({ addOptions: (o: Record<string, unknown>) => (o.httpsAgent = agent), toXML: () => '' } as unknown as soap.ISecurity);
  const Context = { MandantId: CTX.mandantId, ClientSystemId: CTX.clientSystemId, WorkplaceId: CTX.workplaceId };
  const [read] = await client.ReadCardCertificateAsync({ CardHandle: handles.HBA, Context, CertRefList: { CertRef: ['C.QES'] } });
  assert.equal(read.Status.Result, 'OK');
  const info = Array.isArray(read.X509DataInfoList.X509DataInfo) ? read.X509DataInfoList.X509DataInfo[0] : read.X509DataInfoList.X509DataInfo;
  assert.equal(info.CertRef, 'C.QES');
  const der = Buffer.from(info.X509Data.X509Certificate, 'base64');
  assert.match(parseCertificate(der).subject, /Hanna/);
  const [verified] = await client.VerifyCertificateAsync({ Context, X509Certificate: der.toString('base64') });
  assert.equal(verified.VerificationStatus.VerificationResult, 'VALID');
  const roles = verified.RoleList.Role;
  assert.deepEqual(Array.isArray(roles) ? roles : [roles], ['1.2.276.0.76.4.30']);
});

test('VerifyCertificate without any OCSP responder is INCONCLUSIVE', async () => {
  const hba = certs((await read(handles.HBA, ['C.QES'])).text)['C.QES'] as Buffer;
  await f.pki!.stop();
  const r = await verify(hba);
  assert.equal(r.result, 'INCONCLUSIVE');
});
