/**
 * AuthSignatureService end to end: ExternalAuthenticate over SOAP → CardAccess → PC/SC → the SMC-B
 * and HBA card OS. The ECDSA signature comes back DER-encoded and verifies with the card's AUT
 * certificate; faults for wrong card, missing PIN, signature type and input size; XSD validation;
 * a `soap` client built from AuthSignatureService_v7_4_1.wsdl.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { personaIdentity } from '../../../cards/index';
import type { VirtualCard } from '../../../cards/vpcd/types';
import { bp256VerifyDigest } from '../../../simulators/lib/bp256';
import { parseBer, Tag } from '../../../simulators/lib/der';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { parseSoapEnvelope, readSoapFault, SOAP11_ENVELOPE_NS } from '../../../simulators/lib/soap';
import { parseCertificate } from '../../../simulators/lib/x509';
import { serialize, type NsElement } from '../../../simulators/lib/xml';
import { AUTH_SIGNATURE_SERVICE_PATH } from '../../../simulators/konnektor/auth-signature-service';
import { CardAccess, type CardInfo } from '../../../simulators/konnektor/card-access';
import { DSS_NS } from '../../../simulators/konnektor/dss';
import { interceptTransmit, startSignatureStack, type SignatureStack } from '../../../simulators/konnektor/testing/signature-stack';
import { freeVpcdBase } from '../pcsc/helpers';

const SCHEMAS = sharedPath('reference', 'konnektor-schemas', 'conn');
const XSD = path.join(SCHEMAS, 'SignatureService.xsd');
const WSDL = path.join(SCHEMAS, 'AuthSignatureService_v7_4_1.wsdl');
const SMCB = 'Praxis Dr. Hanna Ebert';
const HBA = 'Dr. Hanna Ebert';
const EGK = 'Jonas Keller';
const ECDSA = 'urn:bsi:tr:03111:ecdsa';

let stack: SignatureStack | undefined;
let tmp: string;
let access: CardAccess;
let url: string;
const psoCount = new Map<string, number>();
const responses: string[] = [];

function counting(name: string, card: VirtualCard): VirtualCard {
  return interceptTransmit(card, (apdu, next) => {
    if (apdu[1] === 0x2a && apdu[2] === 0x9e) psoCount.set(name, (psoCount.get(name) ?? 0) + 1);
    return next(apdu);
  });
}

function cardOf(type: CardInfo['type'], surname: string): CardInfo {
  const c = access.list().find((x) => x.type === type && (x.holderName ?? '').includes(surname));
  assert.ok(c, `${type} ${surname} is inserted`);
  return c;
}

before(async () => {
  stack = await startSignatureStack({
    name: 'kon-auth',
    tmpPrefix: 'kon-auth-',
    vpcdPort: () => freeVpcdBase(45700, 4),
    personas: [SMCB, HBA, EGK],
    insert: [SMCB, HBA, EGK],
    wrapCard: counting,
    signature: false,
    authSignature: true,
  });
  ({ tmp, access, url } = stack);
});

after(async () => {
  await stack?.stop();
});

interface Result {
  status: number;
  body: NsElement;
  code?: number;
  detail?: string;
}

async function externalAuthenticate(handle: string, data: Buffer, opts: { type?: string | null; scheme?: string } = {}): Promise<Result> {
  const type = opts.type === null ? '' : `<dss:SignatureType>${opts.type ?? ECDSA}</dss:SignatureType>`;
  const scheme = opts.scheme ? `<SIG:SignatureSchemes>${opts.scheme}</SIG:SignatureSchemes>` : '';
  const oi = type || scheme ? `<SIG:OptionalInputs>${type}${scheme}</SIG:OptionalInputs>` : '';
  const xml =
    `<soapenv:Envelope xmlns:soapenv="${SOAP11_ENVELOPE_NS}" xmlns:SIG="${DSS_NS.SIG74}" xmlns:CONN="${DSS_NS.CONN}" xmlns:CCTX="${DSS_NS.CCTX}" xmlns:dss="${DSS_NS.DSS}"><soapenv:Body>` +
    `<SIG:ExternalAuthenticate><CONN:CardHandle>${handle}</CONN:CardHandle><CCTX:Context><CONN:MandantId>Mandant-SIM</CONN:MandantId><CONN:ClientSystemId>CS-SIM</CONN:ClientSystemId>` +
    `<CONN:WorkplaceId>WP-SIM</CONN:WorkplaceId></CCTX:Context>${oi}<SIG:BinaryString><dss:Base64Data MimeType="application/octet-stream">${data.toString('base64')}</dss:Base64Data></SIG:BinaryString>` +
    '</SIG:ExternalAuthenticate></soapenv:Body></soapenv:Envelope>';
  const res = await fetch(`${url}${AUTH_SIGNATURE_SERVICE_PATH}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${DSS_NS.SIG74}#ExternalAuthenticate"` }, body: xml });
  const text = await res.text();
  const env = parseSoapEnvelope(text);
  const f = readSoapFault(text);
  if (!f) responses.push(serialize(env.body.element));
  return { status: res.status, body: env.body, ...(f ? { code: f.trace[0]?.code, detail: f.trace[0]?.detail } : {}) };
}

function signatureOf(r: Result): { value: Buffer; type?: string } {
  assert.equal(r.status, 200, `${r.code} ${r.detail}`);
  assert.equal(r.body.child('Status', DSS_NS.CONN)?.child('Result', DSS_NS.CONN)?.text(), 'OK');
  const b = r.body.child('SignatureObject', DSS_NS.DSS)?.child('Base64Signature', DSS_NS.DSS) as NsElement;
  return { value: Buffer.from(b.text(), 'base64'), type: b.attr('Type') };
}

/** DER ECDSA-Sig-Value: SEQUENCE of two positive INTEGERs, minimal encoding. */
function assertDerEcdsa(sig: Buffer): void {
  const n = parseBer(sig);
  assert.ok(n.isUniversal(Tag.SEQUENCE) && n.children.length === 2, 'SEQUENCE { r, s }');
  for (const i of n.children) {
    assert.ok(i.isUniversal(Tag.INTEGER));
    const c = i.content;
    assert.ok(c[0] < 0x80, 'positive');
    assert.ok(!(c.length > 1 && c[0] === 0 && c[1] < 0x80), 'minimal');
  }
  assert.ok(sig.length >= 8 && sig.length <= 72);
}

test('SMC-B: ExternalAuthenticate signs a 32-byte hash with PrK.HCI.AUT; DER signature that verifies with C.HCI.AUT', async () => {
  const smcb = cardOf('SMC-B', 'Ebert');
  assert.equal((await access.verifyPin(smcb.handle, 'PIN.SMC')).result, 'OK', 'the practice unlocks the SMC-B (CardService VerifyPin)');
  const cert = (await access.readCertificate(smcb.handle, 'C.AUT')) as Buffer;
  const parsed = parseCertificate(cert);
  assert.ok(parsed.policies.includes('1.2.276.0.76.4.77'), 'C.HCI.AUT');
  assert.ok(personaIdentity(SMCB, { pkiDir: path.join(tmp, 'pki'), cacheDir: path.join(tmp, 'cards') }).certificates['C.HCI.AUT'].certificate.equals(cert));
  const before = psoCount.get(SMCB) ?? 0;
  for (let i = 0; i < 5; i++) {
    const hash = crypto.createHash('sha256').update(`challenge ${i} ${Date.now()}`).digest();
    const sig = signatureOf(await externalAuthenticate(smcb.handle, hash));
    assert.equal(sig.type, ECDSA);
    assertDerEcdsa(sig.value);
    assert.ok(bp256VerifyDigest(hash, sig.value, parsed.publicKey, 'der'), 'verifies with the SMC-B C.HCI.AUT key');
    assert.ok(!bp256VerifyDigest(crypto.createHash('sha256').update('other').digest(), sig.value, parsed.publicKey, 'der'));
  }
  assert.equal(psoCount.get(SMCB), before + 5, 'the card computed each signature');
  // Independent check: openssl pkeyutl verifies the DER signature over the hash with the certificate's key.
  const hash = crypto.createHash('sha256').update('openssl cross-check').digest();
  const sig = signatureOf(await externalAuthenticate(smcb.handle, hash)).value;
  const f = (n: string, d: Buffer | string) => {
    fs.writeFileSync(path.join(tmp, n), d);
    return path.join(tmp, n);
  };
  const pub = f('smcb-aut.pub.pem', parsed.publicKey.export({ type: 'spki', format: 'pem' }));
  const ossl = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', f('hash.bin', hash), '-sigfile', f('sig.der', sig)], { encoding: 'utf8' });
  assert.match(ossl.stdout, /Signature Verified Successfully/, ossl.stderr);
  const other = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', f('hash2.bin', crypto.randomBytes(32)), '-sigfile', path.join(tmp, 'sig.der')], { encoding: 'utf8' });
  assert.doesNotMatch(other.stdout, /Signature Verified Successfully/);
});

test('HBA: ExternalAuthenticate with PrK.HP.AUT after PIN.CH; without PIN → 4047', async () => {
  const hba = cardOf('HBA', 'Ebert');
  const hash = crypto.randomBytes(32);
  const noPin = await externalAuthenticate(hba.handle, hash);
  assert.equal(noPin.code, 4047, noPin.detail);
  assert.match(noPin.detail ?? '', /PIN\.CH is not verified/);
  assert.equal((await access.verifyPin(hba.handle, 'PIN.CH')).result, 'OK');
  const sig = signatureOf(await externalAuthenticate(hba.handle, hash));
  const cert = parseCertificate((await access.readCertificate(hba.handle, 'C.AUT')) as Buffer);
  assert.ok(bp256VerifyDigest(hash, sig.value, cert.publicKey, 'der'), 'verifies with C.HP.AUT');
});

test('faults: eGK, unknown handle, SignatureType absent (RSA default) / RSA / unknown, SignatureSchemes, input size', async () => {
  const smcb = cardOf('SMC-B', 'Ebert').handle;
  const h = crypto.randomBytes(32);
  const cases: Array<[string, Promise<Result>, number, RegExp?]> = [
    ['eGK', externalAuthenticate(cardOf('EGK', 'Keller').handle, h), 4047],
    ['unknown handle', externalAuthenticate('nope', h), 4008],
    ['no SignatureType', externalAuthenticate(smcb, h, { type: null }), 4111, /default/],
    ['RSA', externalAuthenticate(smcb, h, { type: 'urn:ietf:rfc:3447' }), 4111, /ECC keys only/],
    ['unknown type', externalAuthenticate(smcb, h, { type: 'urn:example:foo' }), 4111],
    ['SignatureSchemes with ECDSA', externalAuthenticate(smcb, h, { scheme: 'RSASSA-PSS' }), 4111],
    ['empty input', externalAuthenticate(smcb, Buffer.alloc(0)), 4000],
    ['65 bytes', externalAuthenticate(smcb, Buffer.alloc(65, 1)), 4000],
  ];
  for (const [name, p, code, re] of cases) {
    const r = await p;
    assert.equal(r.code, code, `${name}: ${r.detail}`);
    if (re) assert.match(r.detail ?? '', re, name);
  }
});

test('a soap client built only from AuthSignatureService_v7_4_1.wsdl calls ExternalAuthenticate', { timeout: 60_000 }, async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const soapLib = require('soap') as typeof import('soap');
  const client = await soapLib.createClientAsync(WSDL, { endpoint: `${url}${AUTH_SIGNATURE_SERVICE_PATH}` });
  const smcb = cardOf('SMC-B', 'Ebert');
  const hash = crypto.createHash('sha256').update('idp challenge').digest();
  const [res] = await client.ExternalAuthenticateAsync({
    CardHandle: smcb.handle,
    Context: { MandantId: 'Mandant-SIM', ClientSystemId: 'CS-SIM', WorkplaceId: 'WP-SIM' },
    OptionalInputs: { SignatureType: ECDSA },
    BinaryString: { Base64Data: { attributes: { MimeType: 'application/octet-stream' }, $value: hash.toString('base64') } },
  });
  assert.equal(res.Status.Result, 'OK');
  const b64 = res.SignatureObject.Base64Signature;
  assert.equal(b64.attributes.Type, ECDSA);
  const cert = parseCertificate((await access.readCertificate(smcb.handle, 'C.AUT')) as Buffer);
  assert.ok(bp256VerifyDigest(hash, Buffer.from(b64.$value, 'base64'), cert.publicKey, 'der'));
});

test('every ExternalAuthenticateResponse validates against SignatureService.xsd (v7.4)', () => {
  assert.ok(responses.length >= 6);
  const dir = fs.mkdtempSync(path.join(tmp, 'xsd-'));
  const files = responses.map((xml, i) => {
    const f = path.join(dir, `${i}.xml`);
    fs.writeFileSync(f, xml);
    return f;
  });
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, ...files], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
});
