/**
 * SignatureService 7.5 end to end: SOAP over HTTP → signature service → CardAccess → PC/SC →
 * pcscd → vpcd → the persona cards' OS. The card computes every signature; VERIFY commands are
 * counted on the card side (a wrapper around each persona card in the cards service's catalog).
 *
 * Covers: GetJobNumber; SignDocument single (openssl cms -verify against our root, OCSP embedded),
 * batch of 5 with one PIN entry, nonQES with the SMC-B; VerifyDocument over SOAP; the comfort
 * signature; faults (wrong card type, unknown handle, blocked/wrong PIN, SignatureType, size,
 * job numbers, revoked HBA); card removal during a batch; XSD validation of every response; a
 * `soap` client built only from the WSDL.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningCardsService } from '../../../cards/service';
import type { VirtualCard } from '../../../cards/vpcd/types';
import { parseSignedData, verifySignedData, CMS_OID } from '../../../simulators/lib/cms';
import { parseOcspResponse } from '../../../simulators/lib/ocsp';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { parseSoapEnvelope, readSoapFault, SOAP11_ENVELOPE_NS } from '../../../simulators/lib/soap';
import { parseCertificate, toPem } from '../../../simulators/lib/x509';
import { serialize, type NsElement } from '../../../simulators/lib/xml';
import { CardAccess, type CardInfo } from '../../../simulators/konnektor/card-access';
import type { KonnektorContext } from '../../../simulators/konnektor/context';
import { DSS_NS } from '../../../simulators/konnektor/dss';
import { SIGNATURE_SERVICE_PATH, type SignatureServiceState } from '../../../simulators/konnektor/signature-service';
import { interceptTransmit, startSignatureStack, type SignatureStack } from '../../../simulators/konnektor/testing/signature-stack';
import { freeVpcdBase } from '../pcsc/helpers';
// Pulls the benchmark into the type check (tsconfig.json does not include bench/).
import type * as KonnektorBench from '../../../bench/konnektor.bench';

const konnektorBench: typeof KonnektorBench.benchmark | undefined = undefined;
void konnektorBench;

const SCHEMAS = sharedPath('reference', 'konnektor-schemas', 'conn');
const XSD = path.join(SCHEMAS, 'SignatureService_V7_5_6.xsd');
const WSDL = path.join(SCHEMAS, 'SignatureService_V7_5_6.wsdl');
const HBA = 'Dr. Hanna Ebert';
const SMCB = 'Praxis Dr. Hanna Ebert';
const EGK = 'Jonas Keller';
const BLOCKED = 'Dr. Eva Sperling';
const REVOKED = 'Dr. Sabine Roth';
const COMFORT_MAX = 3;

let stack: SignatureStack | undefined;
let tmp: string;
let cards: RunningCardsService;
let access: CardAccess;
let state: SignatureServiceState;
let k: KonnektorContext;
let url: string;
/** VERIFY (INS 20 with data, CLA 00) and PSO CDS commands each persona's card received. */
const verifies = new Map<string, number>();
const signatures = new Map<string, number>();
/** Called after each PSO CDS a card answered (card removal test). */
let onCardSignature: ((persona: string) => void) | undefined;
/** Every response body that came back (validated against the XSD at the end). */
const responses: Array<{ op: string; xml: string }> = [];
/** The GERROR:Error details of every fault (validated against TelematikError.xsd at the end). */
const faultDetails: string[] = [];

function counting(name: string, card: VirtualCard): VirtualCard {
  return interceptTransmit(card, (apdu, next) => {
    const rsp = next(apdu);
    if (apdu[0] === 0x00 && apdu[1] === 0x20 && apdu.length > 5) verifies.set(name, (verifies.get(name) ?? 0) + 1);
    if (apdu[1] === 0x2a && apdu[2] === 0x9e && rsp.readUInt16BE(rsp.length - 2) === 0x9000) {
      signatures.set(name, (signatures.get(name) ?? 0) + 1);
      if (onCardSignature) setImmediate(() => onCardSignature?.(name));
    }
    return rsp;
  });
}

/** The card of a persona among the identified cards (by type and holder surname). */
function cardOf(name: string): CardInfo | undefined {
  const surname = name.split(' ').pop() as string;
  const want = name.startsWith('Praxis') ? 'SMC-B' : name === EGK ? 'EGK' : 'HBA';
  return access.list().find((x: CardInfo) => x.type === want && (x.holderName ?? '').includes(surname));
}

async function waitForCards(names: string[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await access.settled();
    if (names.every((n) => cardOf(n))) return;
    if (Date.now() > deadline) throw new Error(`cards ${names.join(', ')} not identified (have: ${access.list().map((c) => `${c.type}:${c.holderName}`).join(', ')})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  stack = await startSignatureStack({
    name: 'kon-sig',
    tmpPrefix: 'kon-sig-',
    vpcdPort: () => freeVpcdBase(45400, 4),
    personas: [HBA, SMCB, EGK, BLOCKED, REVOKED],
    insert: [HBA, SMCB, EGK, BLOCKED],
    wrapCard: counting,
    signature: { comfort: { maxSignatures: COMFORT_MAX }, maxDocumentBytes: 256 * 1024 },
  });
  ({ tmp, cards, access, k, url } = stack);
  state = stack.state as SignatureServiceState;
  await waitForCards([HBA, SMCB, EGK, BLOCKED]);
});

after(async () => {
  onCardSignature = undefined;
  await stack?.stop();
});

// ---------------------------------------------------------------------------
// SOAP helpers
// ---------------------------------------------------------------------------

const CTX = (userId?: string) =>
  `<CCTX:Context><CONN:MandantId>Mandant-SIM</CONN:MandantId><CONN:ClientSystemId>CS-SIM</CONN:ClientSystemId><CONN:WorkplaceId>WP-SIM</CONN:WorkplaceId>${userId ? `<CONN:UserId>${userId}</CONN:UserId>` : ''}</CCTX:Context>`;

interface SoapResult {
  status: number;
  body: NsElement;
  fault?: { code?: number; detail?: string; faultstring: string };
}

async function soap(op: string, inner: string): Promise<SoapResult> {
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP11_ENVELOPE_NS}" xmlns:SIG="${DSS_NS.SIG75}" xmlns:CONN="${DSS_NS.CONN}" ` +
    `xmlns:CCTX="${DSS_NS.CCTX}" xmlns:dss="${DSS_NS.DSS}" xmlns:vr="${DSS_NS.VR}"><soapenv:Header/><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
  const res = await fetch(`${url}${SIGNATURE_SERVICE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${DSS_NS.SIG75}#${op}"` },
    body: xml,
  });
  const text = await res.text();
  const env = parseSoapEnvelope(text);
  const f = readSoapFault(text);
  if (!f) responses.push({ op, xml: serialize(env.body.element) });
  else {
    const err = env.body.child('detail')?.child('Error', 'http://ws.gematik.de/tel/error/v2.0');
    assert.ok(err, `fault of ${op} carries a GERROR:Error`);
    faultDetails.push(serialize(err.element));
  }
  return { status: res.status, body: env.body, ...(f ? { fault: { code: f.trace[0]?.code, detail: f.trace[0]?.detail, faultstring: f.faultstring } } : {}) };
}

function handleOf(name: string): string {
  const c = cardOf(name);
  assert.ok(c, `card of ${name} is inserted (have ${access.list().map((x) => `${x.type}:${x.holderName}`).join(', ')})`);
  return c.handle;
}

async function jobNumber(): Promise<string> {
  const r = await soap('GetJobNumber', `<SIG:GetJobNumber>${CTX()}</SIG:GetJobNumber>`);
  assert.equal(r.status, 200);
  return r.body.child('JobNumber', DSS_NS.SIG75)?.text() as string;
}

interface DocSpec {
  id: string;
  content: Buffer;
  eContent?: boolean;
  revocation?: boolean;
  type?: string | null;
  mime?: string;
  shortText?: string;
  xml?: boolean;
}

function signRequestXml(d: DocSpec): string {
  const type = d.type === null ? '' : `<dss:SignatureType>${d.type ?? 'urn:ietf:rfc:5652'}</dss:SignatureType>`;
  const data = d.xml ? `<CONN:Base64XML>${d.content.toString('base64')}</CONN:Base64XML>` : `<dss:Base64Data${d.mime ? ` MimeType="${d.mime}"` : ''}>${d.content.toString('base64')}</dss:Base64Data>`;
  return (
    `<SIG:SignRequest RequestID="${d.id}"><SIG:OptionalInputs>${type}<SIG:IncludeEContent>${d.eContent ?? true}</SIG:IncludeEContent></SIG:OptionalInputs>` +
    `<SIG:Document${d.shortText ? ` ShortText="${d.shortText}"` : ''}>${data}</SIG:Document><SIG:IncludeRevocationInfo>${d.revocation ?? false}</SIG:IncludeRevocationInfo></SIG:SignRequest>`
  );
}

async function signDocument(handle: string, docs: DocSpec[], opts: { userId?: string; job?: string | null } = {}): Promise<SoapResult> {
  const job = opts.job === null ? '' : `<SIG:JobNumber>${opts.job ?? (await jobNumber())}</SIG:JobNumber>`;
  return soap(
    'SignDocument',
    `<SIG:SignDocument><CONN:CardHandle>${handle}</CONN:CardHandle><SIG:Crypt>ECC</SIG:Crypt>${CTX(opts.userId)}<SIG:TvMode>NONE</SIG:TvMode>${job}${docs.map(signRequestXml).join('')}</SIG:SignDocument>`,
  );
}

function signResponses(r: SoapResult): Array<{ id: string; result: string; code?: number; cms?: Buffer }> {
  assert.equal(r.status, 200, JSON.stringify(r.fault));
  return r.body.children('SignResponse', DSS_NS.SIG75).map((s) => {
    const status = s.child('Status', DSS_NS.CONN) as NsElement;
    const code = status.child('Error', DSS_NS.GERROR)?.child('Trace', DSS_NS.GERROR)?.child('Code', DSS_NS.GERROR)?.text();
    const b64 = s.child('SignatureObject', DSS_NS.DSS)?.child('Base64Signature', DSS_NS.DSS);
    return {
      id: s.attr('RequestID') as string,
      result: status.child('Result', DSS_NS.CONN)?.text() as string,
      ...(code ? { code: Number(code) } : {}),
      ...(b64 ? { cms: Buffer.from(b64.text(), 'base64') } : {}),
    };
  });
}

const doc = (i: number) => Buffer.from(`<Bundle xmlns="http://hl7.org/fhir"><id value="160.000.000.000.${String(i).padStart(3, '0')}.00"/></Bundle>`);

function openssl(args: string[]): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { maxBuffer: 16 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr?.toString() ?? '' };
}

function write(name: string, data: Buffer | string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, data);
  return f;
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

test('GetJobNumber answers AAA-000 numbers', async () => {
  const a = await jobNumber();
  const b = await jobNumber();
  assert.match(a, /^[A-Z]{3}-[0-9]{3}$/);
  assert.notEqual(a, b);
});

test('SignDocument (HBA, QES): enveloping CAdES-BES that openssl verifies against our root, OCSP of the QES certificate embedded', async () => {
  const handle = handleOf(HBA);
  const v0 = verifies.get(HBA) ?? 0;
  const s0 = signatures.get(HBA) ?? 0;
  const content = doc(1);
  const r = signResponses(await signDocument(handle, [{ id: 'R-1', content, revocation: true, mime: 'text/plain; charset=utf-8', shortText: 'E-Rezept 160.000' }]));
  assert.equal(r.length, 1);
  assert.equal(r[0].result, 'OK');
  const cms = r[0].cms as Buffer;
  assert.equal(verifies.get(HBA), v0 + 1, 'one PIN.QES entry');
  assert.equal(signatures.get(HBA), s0 + 1, 'one card signature');

  // openssl: HBA QES → GEM.HBA-qCA-SIM (in the CMS) → our root (the only trusted certificate).
  const root = write('root.pem', toPem(k.pki.rootCertificate));
  const out = path.join(tmp, 'content.out');
  const ossl = openssl(['cms', '-verify', '-inform', 'DER', '-in', write('sign1.p7', cms), '-CAfile', root, '-binary', '-out', out]);
  assert.equal(ossl.status, 0, ossl.stderr);
  assert.match(ossl.stderr, /Verification successful/);
  assert.ok(fs.readFileSync(out).equals(content), 'openssl extracts the signed document');
  const ca = write('hba-qca.pem', toPem(k.pki.cas['hba-qca'].certificate));
  const foreign = openssl(['cms', '-verify', '-inform', 'DER', '-in', path.join(tmp, 'sign1.p7'), '-CAfile', write('other-root.pem', toPem(k.pki.cas['smcb-ca'].certificate)), '-binary']);
  assert.notEqual(foreign.status, 0, 'the check is not vacuous: under another trust anchor openssl refuses');
  assert.ok(ca);

  const p = parseSignedData(cms);
  assert.equal(p.content?.equals(content), true);
  const signer = parseCertificate(p.signers[0].certificate as Buffer);
  assert.equal((await access.readCertificate(handle, 'C.QES'))?.equals(signer.der), true, 'signed with the HBA C.QES from the card');
  assert.equal(signer.namedCurve, 'brainpoolP256r1');
  assert.equal(verifySignedData(p).signers[0].signatureScheme, 'ECDSA-SHA256');
  const attrs = new Map((p.signers[0].signedAttributes ?? []).map((a) => [a.oid, a.values[0]]));
  for (const oid of [CMS_OID.contentType, CMS_OID.signingTime, CMS_OID.messageDigest, CMS_OID.signingCertificateV2, CMS_OID.contentHint, CMS_OID.cmsAlgorithmProtection, CMS_OID.mimeType]) {
    assert.ok(attrs.has(oid), `signed attribute ${oid}`);
  }
  assert.ok((attrs.get(CMS_OID.contentHint) as Buffer).includes(Buffer.from('E-Rezept 160.000')), 'content hint carries the ShortText');
  assert.equal(p.ocspResponses.length, 1);
  const ocsp = parseOcspResponse(p.ocspResponses[0]);
  assert.equal(ocsp.responses[0].serialNumber, signer.serialNumber);
  assert.equal(ocsp.responses[0].certStatus, 'good');
  assert.ok((ocsp.producedAt as Date).getTime() >= (p.signers[0].signingTime as Date).getTime() - 1000, 'OCSP fetched after signing (C_11276)');
});

test('batch of 5: five valid signatures, one PIN entry, five card signatures', async () => {
  const handle = handleOf(HBA);
  const v0 = verifies.get(HBA) ?? 0;
  const s0 = signatures.get(HBA) ?? 0;
  const docs = [1, 2, 3, 4, 5].map((i) => ({ id: `B-${i}`, content: doc(10 + i) }));
  const r = signResponses(await signDocument(handle, docs));
  assert.deepEqual(
    r.map((x) => [x.id, x.result]),
    docs.map((d) => [d.id, 'OK']),
  );
  assert.equal(verifies.get(HBA), v0 + 1, 'exactly one VERIFY reached the card');
  assert.equal(signatures.get(HBA), s0 + 5, 'five PSO COMPUTE DIGITAL SIGNATUREs');
  for (const [i, x] of r.entries()) {
    const v = verifySignedData(x.cms as Buffer);
    assert.ok(v.content.equals(docs[i].content), `signature ${i + 1} covers document ${i + 1} (order kept, TIP1-A_5664)`);
  }
});

test('nonQES with the SMC-B: signed with C.HCI.OSIG after PIN.SMC', async () => {
  const handle = handleOf(SMCB);
  const r = signResponses(await signDocument(handle, [{ id: 'N-1', content: doc(30) }]));
  assert.equal(r[0].result, 'OK');
  const v = verifySignedData(r[0].cms as Buffer);
  const cert = parseCertificate(v.signers[0].certificate);
  assert.ok(cert.policies.includes('1.2.276.0.76.4.78'), 'C.HCI.OSIG (oid_smc_b_osig)');
});

async function verifyDocument(cms: Buffer, extra = ''): Promise<SoapResult> {
  return soap(
    'VerifyDocument',
    `<SIG:VerifyDocument>${CTX()}<SIG:TvMode>NONE</SIG:TvMode><SIG:OptionalInputs><vr:ReturnVerificationReport><vr:IncludeCertificateValues>true</vr:IncludeCertificateValues></vr:ReturnVerificationReport>${extra}</SIG:OptionalInputs>` +
      `<dss:SignatureObject><dss:Base64Signature Type="urn:ietf:rfc:5652">${cms.toString('base64')}</dss:Base64Signature></dss:SignatureObject><SIG:IncludeRevocationInfo>false</SIG:IncludeRevocationInfo></SIG:VerifyDocument>`,
  );
}

const highLevel = (r: SoapResult) => r.body.child('VerificationResult', DSS_NS.SIG75)?.child('HighLevelResult', DSS_NS.SIG75)?.text();

test('VerifyDocument over SOAP: our QES VALID, tampered INVALID, a real Konnektor sample INCONCLUSIVE, garbage → 4112', async () => {
  const r = signResponses(await signDocument(handleOf(HBA), [{ id: 'V-1', content: doc(40) }]));
  const cms = r[0].cms as Buffer;
  const ok = await verifyDocument(cms);
  assert.equal(highLevel(ok), 'VALID');
  const report = ok.body.child('OptionalOutputs', DSS_NS.SIG75)?.child('VerificationReport', DSS_NS.VR);
  assert.ok(report, 'verification report returned');
  assert.match(serialize(report.element), /1\.2\.276\.0\.76\.4\.30/, 'profession OID of the signer in the report');
  const tampered = Buffer.from(cms);
  tampered[cms.indexOf(doc(40)) + 10] ^= 0x20;
  assert.equal(highLevel(await verifyDocument(tampered)), 'INVALID');
  const sample = fs.readdirSync(sharedPath('reference', 'qes-samples')).filter((f) => f.endsWith('.p7'))[0];
  assert.equal(highLevel(await verifyDocument(fs.readFileSync(path.join(sharedPath('reference', 'qes-samples'), sample)))), 'INCONCLUSIVE');
  const garbage = await verifyDocument(Buffer.from('not a signature at all'));
  assert.equal(garbage.fault?.code, 4112);
});

test('comfort signature: activate (one PIN entry) → sign without PIN → limit → PIN again; deactivate → PIN again', async () => {
  const handle = handleOf(HBA);
  const user = crypto.randomUUID();
  const v0 = verifies.get(HBA) ?? 0;
  const act = await soap('ActivateComfortSignature', `<SIG:ActivateComfortSignature><CONN:CardHandle>${handle}</CONN:CardHandle>${CTX(user)}</SIG:ActivateComfortSignature>`);
  assert.equal(act.status, 200, JSON.stringify(act.fault));
  assert.equal(act.body.child('SignatureMode', DSS_NS.SIG75)?.text(), 'COMFORT');
  assert.equal(verifies.get(HBA), v0 + 1, 'activation = one PIN.QES entry');

  const mode = await soap('GetSignatureMode', `<SIG:GetSignatureMode><CONN:CardHandle>${handle}</CONN:CardHandle>${CTX(user)}</SIG:GetSignatureMode>`);
  assert.equal(mode.body.child('ComfortSignatureStatus', DSS_NS.SIG75)?.text(), 'ENABLED');
  assert.equal(mode.body.child('ComfortSignatureMax', DSS_NS.SIG75)?.text(), String(COMFORT_MAX));
  assert.equal(mode.body.child('SessionInfo', DSS_NS.SIG75)?.child('CountRemaining', DSS_NS.SIG75)?.text(), String(COMFORT_MAX));

  // Two comfort signatures (a single and a batch of 1) need no PIN.
  for (const i of [1, 2]) assert.equal(signResponses(await signDocument(handle, [{ id: `C-${i}`, content: doc(50 + i) }], { userId: user }))[0].result, 'OK');
  assert.equal(verifies.get(HBA), v0 + 1, 'no PIN entry in comfort mode');
  // Another UserId has no session: PIN entry.
  assert.equal(signResponses(await signDocument(handle, [{ id: 'C-x', content: doc(59) }], { userId: crypto.randomUUID() }))[0].result, 'OK');
  assert.equal(verifies.get(HBA), v0 + 2);
  // A batch larger than what is left (1) needs a PIN; the session stays.
  signResponses(await signDocument(handle, [{ id: 'C-3a', content: doc(53) }, { id: 'C-3b', content: doc(54) }], { userId: user }));
  assert.equal(verifies.get(HBA), v0 + 3);
  // The last comfort signature (count 3 of 3) ends the session …
  signResponses(await signDocument(handle, [{ id: 'C-4', content: doc(55) }], { userId: user }));
  assert.equal(verifies.get(HBA), v0 + 3, 'third comfort signature without PIN');
  const after3 = await soap('GetSignatureMode', `<SIG:GetSignatureMode><CONN:CardHandle>${handle}</CONN:CardHandle>${CTX(user)}</SIG:GetSignatureMode>`);
  assert.equal(after3.body.child('SessionInfo', DSS_NS.SIG75), undefined, 'session ended at the limit');
  // … so the next one needs the PIN again.
  signResponses(await signDocument(handle, [{ id: 'C-5', content: doc(56) }], { userId: user }));
  assert.equal(verifies.get(HBA), v0 + 4, 'limit reached: PIN again');

  // Activate anew (new UserId), deactivate, PIN needed again.
  const user2 = crypto.randomUUID();
  await soap('ActivateComfortSignature', `<SIG:ActivateComfortSignature><CONN:CardHandle>${handle}</CONN:CardHandle>${CTX(user2)}</SIG:ActivateComfortSignature>`);
  signResponses(await signDocument(handle, [{ id: 'D-1', content: doc(60) }], { userId: user2 }));
  assert.equal(verifies.get(HBA), v0 + 5, 'activation PIN only');
  const de = await soap('DeactivateComfortSignature', `<SIG:DeactivateComfortSignature><CONN:CardHandle>${handle}</CONN:CardHandle></SIG:DeactivateComfortSignature>`);
  assert.equal(de.status, 200, JSON.stringify(de.fault));
  signResponses(await signDocument(handle, [{ id: 'D-2', content: doc(61) }], { userId: user2 }));
  assert.equal(verifies.get(HBA), v0 + 6, 'deactivated: PIN again');

  // UserId rules: not a UUID → 4272; reused → 4270; eGK → 4047.
  const weak = await soap('ActivateComfortSignature', `<SIG:ActivateComfortSignature><CONN:CardHandle>${handle}</CONN:CardHandle>${CTX('User1')}</SIG:ActivateComfortSignature>`);
  assert.equal(weak.fault?.code, 4272);
  const reused = await soap('ActivateComfortSignature', `<SIG:ActivateComfortSignature><CONN:CardHandle>${handle}</CONN:CardHandle>${CTX(user)}</SIG:ActivateComfortSignature>`);
  assert.equal(reused.fault?.code, 4270);
  const egk = await soap('ActivateComfortSignature', `<SIG:ActivateComfortSignature><CONN:CardHandle>${handleOf(EGK)}</CONN:CardHandle>${CTX(crypto.randomUUID())}</SIG:ActivateComfortSignature>`);
  assert.equal(egk.fault?.code, 4047);
  assert.equal(state.comfort.list().length, 0);
});

test('faults: wrong card type, unknown handle, blocked and wrong PIN, SignatureType, XML default, size, job numbers, revoked HBA', async () => {
  const hba = handleOf(HBA);
  const content = doc(70);
  const cases: Array<[string, Promise<SoapResult>, number]> = [
    ['eGK handle', signDocument(handleOf(EGK), [{ id: 'F', content }]), 4047],
    ['unknown handle', signDocument('no-such-card', [{ id: 'F', content }]), 4008],
    ['blocked PIN.QES', signDocument(handleOf(BLOCKED), [{ id: 'F', content }]), 4063],
    ['XAdES requested', signDocument(hba, [{ id: 'F', content, type: 'http://uri.etsi.org/01903/v1.3.2#' }]), 4111],
    ['XML without SignatureType (XAdES default)', signDocument(hba, [{ id: 'F', content, type: null, xml: true }]), 4111],
    ['oversized document', signDocument(hba, [{ id: 'F', content: Buffer.alloc(300 * 1024, 0x41) }]), 4115],
    ['no job number', signDocument(hba, [{ id: 'F', content }], { job: null }), 4000],
    ['malformed job number', signDocument(hba, [{ id: 'F', content }], { job: 'AB-1234' }), 4000],
  ];
  for (const [name, p, code] of cases) {
    const r = await p;
    assert.equal(r.fault?.code, code, `${name}: ${JSON.stringify(r.fault)}`);
  }
  // Unknown job numbers are accepted (gemSpec_Kon: no link between issued and used numbers) …
  assert.equal(signResponses(await signDocument(hba, [{ id: 'J', content }], { job: 'QQQ-999' }))[0].result, 'OK');
  // … StopSignature for a job that does not run is a fault.
  const stop = await soap('StopSignature', `<SIG:StopSignature>${CTX()}<SIG:JobNumber>QQQ-999</SIG:JobNumber></SIG:StopSignature>`);
  assert.equal(stop.fault?.code, 4260);
  // A wrong PIN at the PIN pad (queued through the card layer) → 4064, retry counter counts down.
  const iccsn = access.info(hba)?.iccsn as string;
  access.pinPad.queue(iccsn, ['999999']);
  assert.equal((await signDocument(hba, [{ id: 'W', content }])).fault?.code, 4064);
  assert.equal((await access.pinStatus(hba, 'PIN.QES')).leftTries, 2);
  assert.equal(signResponses(await signDocument(hba, [{ id: 'W2', content }]))[0].result, 'OK', 'the right PIN resets the counter');
  // A revoked HBA: the Konnektor checks the QES certificate before signing (TUC_KON_152).
  await cards.remove({ persona: BLOCKED });
  await cards.insert(REVOKED, 3);
  await waitForCards([REVOKED]);
  const s0 = signatures.get(REVOKED) ?? 0;
  const revoked = await signDocument(handleOf(REVOKED), [{ id: 'X', content }]);
  assert.equal(revoked.fault?.code, 4113, JSON.stringify(revoked.fault));
  assert.equal(signatures.get(REVOKED) ?? 0, s0, 'the revoked card was not asked to sign');
});

test('card removed during a batch: signed documents come back, the rest fail with 4008, nothing hangs', { timeout: 60_000 }, async () => {
  const handle = handleOf(HBA);
  const s0 = signatures.get(HBA) ?? 0;
  let removed: Promise<unknown> | undefined;
  onCardSignature = (name) => {
    if (name === HBA && (signatures.get(HBA) ?? 0) - s0 === 2 && !removed) removed = cards.remove({ persona: HBA });
  };
  const docs = Array.from({ length: 30 }, (_, i) => ({ id: `RM-${i + 1}`, content: doc(100 + i) }));
  const t0 = Date.now();
  const r = signResponses(await signDocument(handle, docs));
  onCardSignature = undefined;
  await removed;
  const okCount = r.filter((x) => x.result === 'OK').length;
  assert.ok(okCount >= 2 && okCount < 30, `some documents signed before the removal (${okCount})`);
  for (const x of r.slice(0, okCount)) assert.ok(verifySignedData(x.cms as Buffer), x.id);
  for (const x of r.slice(okCount)) {
    assert.equal(x.result, 'Warning', x.id);
    assert.equal(x.code, 4008, x.id);
    assert.equal(x.cms, undefined);
  }
  assert.ok(Date.now() - t0 < 30_000, 'answered promptly');
  // A new SignDocument with the old handle: 4008; the card comes back with a new handle.
  assert.equal((await signDocument(handle, [{ id: 'G', content: doc(1) }])).fault?.code, 4008);
  await cards.insert(HBA, 0);
  await waitForCards([HBA]);
  assert.notEqual(handleOf(HBA), handle);
  assert.equal(signResponses(await signDocument(handleOf(HBA), [{ id: 'H', content: doc(2) }]))[0].result, 'OK');
});

test('StopSignature aborts a running batch between two documents', { timeout: 60_000 }, async () => {
  const handle = handleOf(HBA);
  const job = await jobNumber();
  const s0 = signatures.get(HBA) ?? 0;
  const docs = Array.from({ length: 200 }, (_, i) => ({ id: `ST-${i + 1}`, content: doc(300 + i) }));
  const running = signDocument(handle, docs, { job });
  const deadline = Date.now() + 20_000;
  while ((signatures.get(HBA) ?? 0) - s0 < 3) {
    if (Date.now() > deadline) throw new Error('the batch did not start');
    await new Promise((r) => setTimeout(r, 5));
  }
  const stop = await soap('StopSignature', `<SIG:StopSignature>${CTX()}<SIG:JobNumber>${job}</SIG:JobNumber></SIG:StopSignature>`);
  assert.equal(stop.status, 200, JSON.stringify(stop.fault));
  const r = signResponses(await running);
  const okCount = r.filter((x) => x.result === 'OK').length;
  assert.ok(okCount >= 3 && okCount < 200, `stopped after ${okCount}`);
  assert.ok(r.slice(okCount).every((x) => x.result === 'Warning' && x.code === 4261));
  const again = await soap('StopSignature', `<SIG:StopSignature>${CTX()}<SIG:JobNumber>${job}</SIG:JobNumber></SIG:StopSignature>`);
  assert.equal(again.fault?.code, 4260, 'the job is over');
});

test('a soap client built only from the WSDL calls GetJobNumber, SignDocument, VerifyDocument and the comfort operations', { timeout: 60_000 }, async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const soapLib = require('soap') as typeof import('soap');
  const client = await soapLib.createClientAsync(WSDL, { endpoint: `${url}${SIGNATURE_SERVICE_PATH}` });
  const context = { MandantId: 'Mandant-SIM', ClientSystemId: 'CS-SIM', WorkplaceId: 'WP-SIM' };
  const handle = handleOf(HBA);
  const [job] = await client.GetJobNumberAsync({ Context: context });
  assert.match(job.JobNumber, /^[A-Z]{3}-[0-9]{3}$/);
  const content = doc(200);
  const [signed] = await client.SignDocumentAsync({
    CardHandle: handle,
    Crypt: 'ECC',
    Context: context,
    TvMode: 'NONE',
    JobNumber: job.JobNumber,
    SignRequest: [
      {
        attributes: { RequestID: 'WSDL-1' },
        OptionalInputs: { SignatureType: 'urn:ietf:rfc:5652', IncludeEContent: true },
        Document: { Base64Data: { attributes: { MimeType: 'text/plain' }, $value: content.toString('base64') } },
        IncludeRevocationInfo: false,
      },
    ],
  });
  const sr = Array.isArray(signed.SignResponse) ? signed.SignResponse[0] : signed.SignResponse;
  assert.equal(sr.Status.Result, 'OK');
  const b64 = sr.SignatureObject.Base64Signature;
  const cmsB64 = typeof b64 === 'string' ? b64 : b64.$value;
  assert.ok(verifySignedData(Buffer.from(cmsB64, 'base64')).content.equals(content));
  const [verified] = await client.VerifyDocumentAsync({
    Context: context,
    TvMode: 'NONE',
    SignatureObject: { Base64Signature: { attributes: { Type: 'urn:ietf:rfc:5652' }, $value: cmsB64 } },
    IncludeRevocationInfo: false,
  });
  assert.equal(verified.VerificationResult.HighLevelResult, 'VALID');
  const user = crypto.randomUUID();
  const [activated] = await client.ActivateComfortSignatureAsync({ CardHandle: handle, Context: { ...context, UserId: user } });
  assert.equal(activated.SignatureMode, 'COMFORT');
  const [mode] = await client.GetSignatureModeAsync({ CardHandle: handle, Context: { ...context, UserId: user } });
  assert.equal(mode.ComfortSignatureStatus, 'ENABLED');
  assert.equal(String(mode.SessionInfo.CountRemaining), String(COMFORT_MAX));
  const [deactivated] = await client.DeactivateComfortSignatureAsync({ CardHandle: [handle] });
  assert.equal(deactivated.Status.Result, 'OK');
  // A fault reaches the soap client as an error carrying the gematik code.
  await assert.rejects(client.SignDocumentAsync({ CardHandle: 'nope', Context: context, TvMode: 'NONE', JobNumber: 'AAA-000', SignRequest: [] }), /"Code":"4000"/);
});

test('every response of this file validates against SignatureService_V7_5_6.xsd', () => {
  assert.ok(responses.length > 20);
  const dir = fs.mkdtempSync(path.join(tmp, 'xsd-'));
  const files = responses.map((r, i) => {
    const f = path.join(dir, `${String(i).padStart(3, '0')}-${r.op}.xml`);
    fs.writeFileSync(f, r.xml);
    return f;
  });
  const ops = new Set(responses.map((r) => r.op));
  for (const op of ['GetJobNumber', 'SignDocument', 'VerifyDocument', 'ActivateComfortSignature', 'DeactivateComfortSignature', 'GetSignatureMode']) assert.ok(ops.has(op), op);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, ...files], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stderr}`.split('\n').filter((l) => !/validates$/.test(l)).join('\n'));
  // The faults' GERROR:Error details against TelematikError.xsd.
  assert.ok(faultDetails.length > 10);
  const errFiles = faultDetails.map((xml, i) => {
    const f = path.join(dir, `fault-${i}.xml`);
    fs.writeFileSync(f, xml);
    return f;
  });
  const e = spawnSync('xmllint', ['--noout', '--schema', sharedPath('reference', 'konnektor-schemas', 'tel', 'error', 'TelematikError.xsd'), ...errFiles], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(e.status, 0, e.stderr);
});
