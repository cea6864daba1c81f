/**
 * The simulated AVS end to end through the real interfaces: PKI service, cards behind a private
 * pcscd, the Konnektor over HTTPS (SignDocument/VerifyDocument/GetCards), the IDP (the pharmacy's
 * and the practice's SMC-B log in through the Konnektor), the Fachdienst with the workflow routes
 * over VAU. The prescription is created in the test through the Fachdienst API ($create, QES by the
 * doctor's HBA through the Konnektor, $activate) and printed as a DataMatrix code the AVS scans.
 *
 * Covered: UC 4.1 (scan, accept, QES check VALID/INVALID/INCONCLUSIVE/not possible; A_18548,
 * A_18791, A_18553, A_18551, A_18552), UC 4.2/4.3 (dispense, close, receipt verified and matched,
 * receipt again A_19125), UC 4.4 (reject, abort → 410), UC 4.5 (A_18515 QES with the HBA, OSIG with
 * the SMC-B), A_18747 (refusals name the current status).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPracticeAuthn } from '../../../simulators/pvs/authn';
import { KonnektorSmcbSigner } from '../../../simulators/authenticator/signers/konnektor-smcb';
import type { ClientSystemAuthn } from '../../../simulators/authenticator/client-wiring';
import { parseSignedData } from '../../../simulators/lib/cms';
import type { Environment } from '../../../simulators/lib/config';
import { renderERezeptPng } from '../../../simulators/lib/datamatrix';
import type { ERezeptToken } from '../../../simulators/lib/erezept-token';
import { parseFhirXml, type FhirJson } from '../../../simulators/lib/fhir';
import { fetchPkiTrust, type IdpTrust } from '../../../simulators/lib/idp-client';
import type { KonnektorClient } from '../../../simulators/lib/konnektor-client';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { VauClient } from '../../../simulators/lib/vau-client';
import { parseCertificate } from '../../../simulators/lib/x509';
import { Avs, FachdienstRefusal } from '../../../simulators/avs/avs';
import { startPracticeStack, type PracticeStack } from '../konnektor-client/stack';
import { startIdpFixture, type IdpFixture } from '../idp/helpers';
import { startFdFixture, type FdFixture } from '../fachdienst/helpers';
import { activateParameters, createParameters, substituteBundle } from '../fachdienst/workflow-helpers';
import { berlinDay } from '../../../simulators/fachdienst/workflow/activate-checks';
import { PHARMACIST, PHARMACY, ScriptedFachdienst } from './helpers';

const DOCTOR = 'Dr. Hanna Ebert';
const PRACTICE = 'Praxis Dr. Hanna Ebert';
const KBV_PZN = sharedPath('reference', 'kbv-bundles', 'Beispiel_1_PZN.xml');
const NS_AC = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode';

let stack: PracticeStack;
let idpFx: IdpFixture;
let fdFx: FdFixture;
let env: Environment;
let trust: IdpTrust;
let konnektor: KonnektorClient;
let practiceAuthn: ClientSystemAuthn;
let prescriber: VauClient;
let avs: Avs;
let rivalAvs: Avs;

before(async () => {
  stack = await startPracticeStack({ vpcdFrom: 48100, personas: [PHARMACY, PHARMACIST, DOCTOR, PRACTICE], name: 'avs-e2e' });
  idpFx = await startIdpFixture({ pkiService: stack.pkiService, tmp: stack.tmp });
  fdFx = await startFdFixture({ idpFx });
  env = {
    ...stack.env,
    services: {
      ...stack.env.services,
      idp: { ...stack.env.services.idp, url: idpFx.idp.url },
      fachdienst: { ...stack.env.services.fachdienst, url: fdFx.fd.url },
    },
  };
  trust = await fetchPkiTrust(env.services.pki.url);
  konnektor = stack.client();
  practiceAuthn = await createPracticeAuthn({ env, trust, signer: new KonnektorSmcbSigner({ konnektor, persona: PRACTICE }) });
  prescriber = new VauClient({ fachdienstUrl: fdFx.fd.url, trust, accessToken: () => practiceAuthn.tokens.accessToken(), user: 'l', userAgent: 'ti-harness-pvs-test/1.0' });
  avs = await Avs.create({ env, trust, pharmacy: PHARMACY, pharmacist: PHARMACIST, konnektor });
  rivalAvs = await Avs.create({ env, trust, pharmacy: PHARMACY, konnektor });
});

after(async () => {
  await avs?.shutdown();
  await rivalAvs?.shutdown();
  await practiceAuthn?.close();
  await fdFx?.stop();
  await idpFx?.stop();
  await stack?.stop();
});

/** The doctor's side through the Fachdienst API: $create, QES through the Konnektor, $activate. */
async function prescribe(): Promise<ERezeptToken> {
  const created = await prescriber.request('POST', '/Task/$create', { body: createParameters(160), headers: { 'Content-Type': 'application/fhir+xml' } });
  assert.equal(created.status, 201, created.text());
  const task = parseFhirXml(created.text());
  const prescriptionId = task.id as string;
  const accessCode = ((task.identifier as FhirJson[]).find((i) => i.system === NS_AC) as FhirJson).value as string;
  const xml = substituteBundle(fs.readFileSync(KBV_PZN, 'utf8'), prescriptionId, berlinDay(new Date()));
  const [hba] = (await konnektor.getCards({ cardType: 'HBA' })).filter((c) => c.iccsn === '80276883119910000001' || c.cardHolderName?.includes('Ebert'));
  assert.ok(hba, 'the doctor HBA is plugged');
  const [signed] = await konnektor.signDocument(hba.cardHandle, [{ content: Buffer.from(xml, 'utf8'), mimeType: 'text/xml', shortText: 'E-Rezept' }], { includeEContent: true, includeRevocationInfo: true });
  assert.ok(signed.signature, `SignDocument: ${signed.result}`);
  const activated = await prescriber.request('POST', `/Task/${prescriptionId}/$activate`, { body: activateParameters(signed.signature), headers: { 'Content-Type': 'application/fhir+xml', 'X-AccessCode': accessCode } });
  assert.equal(activated.status, 200, activated.text());
  return { prescriptionId, accessCode };
}

test('UC 4.1–4.3: scan → accept (QES VALID) → dispense → close → receipt verified → receipt again', async () => {
  const token = await prescribe();
  const [scanned] = avs.scan(renderERezeptPng([token]));
  assert.deepEqual(scanned, token);
  const accepted = await avs.accept(scanned.prescriptionId);
  assert.equal(accepted.signatureCheck.ok, true, JSON.stringify(accepted.signatureCheck));
  assert.match(accepted.secret, /^[0-9a-f]{64}$/);
  assert.equal(avs.get(token.prescriptionId)?.secret, accepted.secret, 'A_18553: the Secret is kept');
  assert.equal(accepted.task.status, 'in-progress');
  assert.equal(((accepted.prescription as FhirJson).identifier as FhirJson).value, token.prescriptionId, 'the KBV bundle of the CMS');
  const items = await avs.dispense(token.prescriptionId);
  assert.equal(items.length, 1);
  const receipt = await avs.close(token.prescriptionId);
  assert.equal(receipt.signatureCheck.ok, true, JSON.stringify(receipt.signatureCheck));
  assert.deepEqual(receipt.problems, []);
  assert.equal(receipt.referencesPrescription, true);
  assert.equal(avs.get(token.prescriptionId)?.status, 'completed');
  const again = await avs.receipt(token.prescriptionId);
  assert.equal(again.signatureCheck.ok, true);
  assert.equal(again.referencesPrescription, true);
  assert.equal(again.signature?.toString('base64'), receipt.signature?.toString('base64'), 'the same signed receipt');
  assert.equal(avs.get(token.prescriptionId)?.receipts.length, 2);
  // A_18747: closing again is refused and names the current status
  await assert.rejects(avs.close(token.prescriptionId), (e: unknown) => e instanceof FachdienstRefusal && e.status === 403 && e.currentStatus === 'completed');
});

test('UC 4.4: reject gives the prescription back (ready, Secret forgotten); it can be accepted again', async () => {
  const token = await prescribe();
  avs.remember(token);
  const first = await avs.accept(token.prescriptionId);
  await avs.reject(token.prescriptionId);
  assert.equal(avs.get(token.prescriptionId)?.secret, undefined);
  assert.equal(avs.get(token.prescriptionId)?.status, 'ready');
  await assert.rejects(avs.close(token.prescriptionId), /no Secret/);
  const second = await avs.accept(token.prescriptionId);
  assert.notEqual(second.secret, first.secret, 'a new Secret after $reject');
  await avs.abort(token.prescriptionId);
});

test('UC 4.4: abort deletes the prescription; accepting it afterwards → 410, status cancelled (A_18747)', async () => {
  const token = await prescribe();
  avs.remember(token);
  await avs.accept(token.prescriptionId);
  await avs.abort(token.prescriptionId);
  assert.equal(avs.get(token.prescriptionId), undefined);
  rivalAvs.remember(token);
  const err = await rivalAvs.accept(token.prescriptionId).then(() => assert.fail('accept must be refused'), (e: unknown) => e);
  assert.ok(err instanceof FachdienstRefusal, String(err));
  assert.equal(err.status, 410);
  assert.equal(err.currentStatus, 'cancelled');
});

test('refusals surface status and text: second pharmacy accepts (409 in-progress), wrong secret (403)', async () => {
  const token = await prescribe();
  avs.remember(token);
  await avs.accept(token.prescriptionId);
  rivalAvs.remember(token);
  await assert.rejects(rivalAvs.accept(token.prescriptionId), (e: unknown) => e instanceof FachdienstRefusal && e.status === 409 && e.currentStatus === 'in-progress');
  const secret = avs.get(token.prescriptionId)?.secret as string;
  avs.overrideSecret(token.prescriptionId, 'f'.repeat(64));
  const err = await avs.close(token.prescriptionId).then(() => assert.fail('close must be refused'), (e: unknown) => e);
  assert.ok(err instanceof FachdienstRefusal, String(err));
  assert.equal(err.status, 403);
  assert.match(err.texts.join(' '), /secret/i);
  avs.overrideSecret(token.prescriptionId, secret);
  await avs.abort(token.prescriptionId);
});

test('UC 4.5 (A_18515): the dispensing data set signed with the HBA (QES) and with the SMC-B (OSIG), both VALID at the Konnektor', async () => {
  const token = await prescribe();
  avs.remember(token);
  await avs.accept(token.prescriptionId);
  await avs.dispense(token.prescriptionId);
  const qes = await avs.signDispensation(token.prescriptionId, 'qes-hba');
  const osig = await avs.signDispensation(token.prescriptionId, 'osig-smcb');
  for (const s of [qes, osig]) {
    assert.equal((await konnektor.verifyDocument(s.cms)).highLevelResult, 'VALID', s.mode);
    assert.ok(parseSignedData(s.cms).content?.equals(s.document), 'enveloping: the CMS carries the data set');
    assert.match(s.document.toString('utf8'), /GEM_ERP_PR_MedicationDispense/);
  }
  const qesCert = parseCertificate(qes.signerCertificate as Buffer);
  const osigCert = parseCertificate(osig.signerCertificate as Buffer);
  assert.match(qesCert.subject, /Sch(ä|ae|\\xC3\\xA4)fer|Katrin/i, qesCert.subject);
  assert.match(osigCert.subject, /Apotheke am Markt/, osigCert.subject);
  await avs.close(token.prescriptionId);
});

// ------------------------------------------------------------------ QES warnings (A_18551, A_18552)

/** The real $accept answer of the E2E suite: production signatures of a real Konnektor (foreign here). */
const DUMP = sharedPath('reference', 'ru-dumps', 'Apotheke', 'quittung_erneut_abfragen');
const DUMP_TOKEN = { prescriptionId: '160.000.239.761.372.41', accessCode: '7f657eee931825f0c065bc4c7634b6da4e394d7381cc0d7d6609312e8833181b' };

async function acceptScripted(bundleXml: string, k: KonnektorClient | Parameters<typeof Avs.create>[0]['konnektor'] = konnektor) {
  const fd = new ScriptedFachdienst([() => ({ status: 200, body: bundleXml })]);
  const a = await Avs.create({ env, pharmacy: PHARMACY, konnektor: k, fachdienst: fd });
  try {
    a.remember(DUMP_TOKEN);
    return await a.accept(DUMP_TOKEN.prescriptionId);
  } finally {
    await a.shutdown();
  }
}

test('a foreign QES (real Konnektor sample, unknown CA) → INCONCLUSIVE → warning; the prescription is still shown', async () => {
  const accepted = await acceptScripted(fs.readFileSync(path.join(DUMP, '007_Response_Bundle.xml'), 'utf8'));
  assert.equal(accepted.signatureCheck.ok, false);
  assert.ok(!accepted.signatureCheck.ok && accepted.signatureCheck.warning === 'inconclusive', JSON.stringify(accepted.signatureCheck));
  assert.equal(((accepted.prescription as FhirJson).identifier as FhirJson).value, DUMP_TOKEN.prescriptionId, 'A_18552: shown despite the warning');
  const sample = fs.readdirSync(sharedPath('reference', 'qes-samples')).find((f) => f.endsWith('.p7')) as string;
  const r = await konnektor.verifyDocument(fs.readFileSync(path.join(sharedPath('reference', 'qes-samples'), sample)));
  assert.equal(r.highLevelResult, 'INCONCLUSIVE', `qes-samples/${sample}`);
});

test('a tampered prescription CMS (our HBA, content changed) → INVALID → warning', async () => {
  const xml = substituteBundle(fs.readFileSync(KBV_PZN, 'utf8'), DUMP_TOKEN.prescriptionId, berlinDay(new Date()));
  const [hba] = (await konnektor.getCards({ cardType: 'HBA' })).filter((c) => c.cardHolderName?.includes('Ebert'));
  const [signed] = await konnektor.signDocument(hba.cardHandle, [{ content: Buffer.from(xml, 'utf8') }], { includeEContent: true });
  const cms = Buffer.from(signed.signature as Buffer);
  const at = cms.indexOf(Buffer.from('Januvia'));
  assert.ok(at > 0);
  cms[at] = 'X'.charCodeAt(0);
  const bundle = fs.readFileSync(path.join(DUMP, '007_Response_Bundle.xml'), 'utf8').replace(/(<Binary[\s\S]*?<data value=")[^"]+"/, `$1${cms.toString('base64')}"`);
  const accepted = await acceptScripted(bundle);
  assert.ok(!accepted.signatureCheck.ok && accepted.signatureCheck.warning === 'invalid', JSON.stringify(accepted.signatureCheck));
  assert.match(JSON.stringify(accepted.prescription), /Xanuvia/, 'the (tampered) prescription is still shown');
});

test('the Konnektor cannot be reached → warning "not possible", never silently accepted', async () => {
  const accepted = await acceptScripted(fs.readFileSync(path.join(DUMP, '007_Response_Bundle.xml'), 'utf8'), {
    url: 'https://127.0.0.1:9',
    ca: stack.rootPem,
    context: { mandantId: 'Praxis', clientSystemId: 'PVS-1', workplaceId: 'WP-1' },
    timeoutMs: 2000,
  });
  assert.ok(!accepted.signatureCheck.ok && accepted.signatureCheck.warning === 'not-possible', JSON.stringify(accepted.signatureCheck));
});
