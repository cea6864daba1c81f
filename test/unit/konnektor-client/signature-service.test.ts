/**
 * KonnektorClient's SignatureService 7.5 operations against the simulated Konnektor with real
 * persona cards (PC/SC): GetJobNumber, SignDocument (single, batch = one PIN entry), the comfort
 * signature (Activate/GetSignatureMode/Deactivate: no PIN while active), VerifyDocument with
 * the verification report, and the errors (Fault → KonnektorFault, bad arguments → TypeError).
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { verifySignedData } from '../../../simulators/lib/cms';
import { KonnektorFault, type KonnektorClient } from '../../../simulators/lib/konnektor-client';
import { parseCertificate } from '../../../simulators/lib/x509';
import { HBA, PRACTICE_CONTEXT, SMCB, startPracticeStack, type PracticeStack } from './stack';

let stack: PracticeStack;
let k: KonnektorClient;
let hba: string;
let smcb: string;

before(async () => {
  stack = await startPracticeStack({ vpcdFrom: 47100 });
  k = stack.client();
  const cards = await k.getCards();
  hba = cards.find((c) => c.cardType === 'HBA')?.cardHandle as string;
  smcb = cards.find((c) => c.cardType === 'SMC-B')?.cardHandle as string;
  assert.ok(hba && smcb, `HBA and SMC-B expected, got ${cards.map((c) => c.cardType).join(', ')}`);
});

after(async () => {
  await stack?.stop();
});

const doc = (n: number) => Buffer.from(`<Bundle xmlns="http://hl7.org/fhir"><id value="doc-${n}"/></Bundle>`, 'utf8');

test('GetJobNumber answers a job number of the form ABC-123', async () => {
  const a = await k.getJobNumber();
  const b = await k.getJobNumber();
  assert.match(a, /^[A-Z]{3}-[0-9]{3}$/);
  assert.notEqual(a, b, 'two job numbers in a row are different');
});

test('SignDocument (single): enveloping CAdES by the HBA with the OCSP response embedded, one PIN entry', async () => {
  const before = { ...stack.counter(HBA) };
  const [r] = await k.signDocument(hba, [{ content: doc(1), shortText: 'E-Rezept 1' }]);
  assert.equal(r.result, 'OK');
  assert.equal(r.requestId, 'Doc1');
  assert.equal(r.signatureType, 'urn:ietf:rfc:5652');
  assert.ok(r.signature, 'a signature');
  const v = verifySignedData(r.signature as Buffer);
  assert.ok(v.content.equals(doc(1)), 'the document is encapsulated (enveloping)');
  const qes = await k.readCardCertificate(hba, 'C.QES');
  assert.ok(v.signers[0].certificate.equals(qes as Buffer), "the signer is the HBA's C.HP.QES");
  assert.ok(v.parsed.ocspResponses.length >= 1, 'IncludeRevocationInfo (default true) embeds an OCSP response');
  assert.equal(stack.counter(HBA).verify - before.verify, 1, 'one PIN entry');
  assert.equal(stack.counter(HBA).pso - before.pso, 1, 'one card signature');
});

test('SignDocument (batch of 3): one call, three signatures in request order, one PIN entry', async () => {
  const before = { ...stack.counter(HBA) };
  const jobNumber = await k.getJobNumber();
  const rs = await k.signDocument(
    hba,
    [1, 2, 3].map((n) => ({ content: doc(n), requestId: `R${n}` })),
    { jobNumber, includeRevocationInfo: false },
  );
  assert.deepEqual(
    rs.map((r) => r.requestId),
    ['R1', 'R2', 'R3'],
  );
  rs.forEach((r, i) => {
    assert.equal(r.result, 'OK');
    const v = verifySignedData(r.signature as Buffer);
    assert.ok(v.content.equals(doc(i + 1)), `document ${i + 1} in signature ${i + 1}`);
    assert.equal(v.parsed.ocspResponses.length, 0, 'IncludeRevocationInfo=false: no OCSP response');
  });
  assert.equal(stack.counter(HBA).verify - before.verify, 1, 'one PIN entry for the batch');
  assert.equal(stack.counter(HBA).pso - before.pso, 3, 'three card signatures');
});

test('SignDocument detached (IncludeEContent=false) verifies with the document given to VerifyDocument', async () => {
  const [r] = await k.signDocument(smcb, [{ content: doc(9) }], { includeEContent: false, includeRevocationInfo: false });
  assert.equal(r.result, 'OK');
  const ok = await k.verifyDocument(r.signature as Buffer, { detachedContent: doc(9) });
  assert.equal(ok.highLevelResult, 'VALID');
  const bad = await k.verifyDocument(r.signature as Buffer, { detachedContent: doc(8) });
  assert.equal(bad.highLevelResult, 'INVALID');
});

test('comfort signature: one PIN entry at activation, none while active, PIN again after deactivation', async () => {
  const user = stack.client({ ...PRACTICE_CONTEXT, userId: crypto.randomUUID() });
  const off = await user.getSignatureMode(hba);
  assert.equal(off.comfortSignatureStatus, 'ENABLED');
  assert.equal(off.session, undefined, 'no session before activation');
  assert.ok((off.comfortSignatureMax ?? 0) > 0);

  const c0 = { ...stack.counter(HBA) };
  const act = await user.activateComfortSignature(hba);
  assert.equal(act.signatureMode, 'COMFORT');
  assert.equal(stack.counter(HBA).verify - c0.verify, 1, 'activation takes the PIN');

  const on = await user.getSignatureMode(hba);
  assert.equal(on.session?.signatureMode, 'COMFORT');
  const count = on.session?.countRemaining as number;

  const c1 = { ...stack.counter(HBA) };
  const one = await user.signDocument(hba, [{ content: doc(1) }], { includeRevocationInfo: false });
  const two = await user.signDocument(hba, [{ content: doc(2) }, { content: doc(3) }], { includeRevocationInfo: false });
  assert.deepEqual([...one, ...two].map((r) => r.result), ['OK', 'OK', 'OK']);
  assert.equal(stack.counter(HBA).verify - c1.verify, 0, 'no PIN entry while the comfort signature is active');
  assert.equal(stack.counter(HBA).pso - c1.pso, 3);
  assert.equal((await user.getSignatureMode(hba)).session?.countRemaining, count - 3, 'three comfort signatures used');

  await user.deactivateComfortSignature(hba);
  assert.equal((await user.getSignatureMode(hba)).session, undefined, 'deactivated: no session');
  const c2 = { ...stack.counter(HBA) };
  await user.signDocument(hba, [{ content: doc(4) }], { includeRevocationInfo: false });
  assert.equal(stack.counter(HBA).verify - c2.verify, 1, 'after deactivation the PIN is entered again');
});

test('VerifyDocument: VALID with the report details; a changed document is INVALID', async () => {
  const [r] = await k.signDocument(hba, [{ content: doc(5) }]);
  const v = await k.verifyDocument(r.signature as Buffer, { includeCertificateValues: true });
  assert.equal(v.highLevelResult, 'VALID');
  assert.equal(v.status.result, 'OK');
  assert.equal(v.signers.length, 1);
  const s = v.signers[0];
  assert.match(s.resultMinor, /valid:signature/);
  assert.equal(s.sigMath?.result, 'valid');
  assert.ok(s.signingTime instanceof Date);
  const qes = parseCertificate((await k.readCardCertificate(hba, 'C.QES')) as Buffer);
  const signerCert = s.certificates.find((c) => c.der && parseCertificate(c.der).serialNumber === qes.serialNumber);
  assert.ok(signerCert, 'the report lists the C.HP.QES with its value');
  assert.equal(signerCert?.status?.result, 'valid');
  assert.equal(signerCert?.ocsp, true, 'the embedded OCSP response is the revocation evidence');

  const cms = r.signature as Buffer;
  const at = cms.indexOf(doc(5));
  const tampered = Buffer.from(cms);
  tampered[at + doc(5).indexOf('doc-5') + 4] = 0x36; // doc-5 → doc-6, same length
  const bad = await k.verifyDocument(tampered);
  assert.equal(bad.highLevelResult, 'INVALID');
  assert.equal(bad.signers[0]?.sigMath?.result, 'invalid');

  const bare = await k.verifyDocument(cms, { returnVerificationReport: false });
  assert.equal(bare.highLevelResult, 'VALID');
  assert.deepEqual(bare.signers, [], 'no report asked for');
});

test('errors: a Konnektor fault is a KonnektorFault with its code; bad arguments fail before sending', async () => {
  await assert.rejects(k.signDocument('no-such-handle', [{ content: doc(1) }]), (e: unknown) => e instanceof KonnektorFault && typeof e.code === 'number' && e.code >= 4000);
  await assert.rejects(k.verifyDocument(Buffer.from('not a CMS')), (e: unknown) => e instanceof KonnektorFault && e.code === 4112);
  await assert.rejects(k.signDocument(hba, []), TypeError);
  await assert.rejects(k.signDocument(hba, [{ content: doc(1), shortText: 'x'.repeat(31) }]), TypeError);
  await assert.rejects(k.signDocument(hba, [{ content: doc(1), requestId: 'A' }, { content: doc(2), requestId: 'A' }]), TypeError);
  await assert.rejects(k.signDocument(hba, [{ content: doc(1) }], { jobNumber: 'abc' }), TypeError);
  await assert.rejects(k.activateComfortSignature(hba), /UserId/, 'activation needs a UserId');
  await assert.rejects(k.deactivateComfortSignature([]), TypeError);
});
