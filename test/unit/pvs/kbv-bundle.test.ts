/**
 * The KBV bundle builder (simulators/lib/kbv-bundle.ts): bundles for several personas (GKV, PKV,
 * PZN and free text) validate against kbv.ita.erp 1.3 without errors and read back with the
 * project's FHIR readers; broken input (missing PZN, invalid KVNR/LANR, …) and broken bundles
 * are refused with issues that name the problem (A_18612).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPersona } from '../../../cards/index';
import type { EgkPersona, HbaPersona, SmcbPersona } from '../../../cards/persona';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { coverageOf, errorsOf, parseFhirXml, patientKvnrOf, prescriberOf, prescriptionIdOf, type FhirJson } from '../../../simulators/lib/fhir';
import {
  assertValidKbvBundle,
  berlinDate,
  buildKbvBundle,
  checkPrescriptionInput,
  coverageFromEgk,
  isValidLanr,
  isValidPzn,
  KbvBundleError,
  organizationFromSmcb,
  patientFromEgk,
  prescriberFromHba,
  serializeKbvBundle,
  validateKbvBundle,
  withPrescriptionId,
  type KbvMedication,
  type KbvPrescriptionInput,
} from '../../../simulators/lib/kbv-bundle';

const IBUPROFEN: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg 20 Filmtabletten N1', form: 'FTA', normSize: 'N1', amount: { value: 20, unit: 'St' }, ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };
const FREETEXT: KbvMedication = { kind: 'freetext', text: 'Metformin 500 mg Tabletten, 1 Packung N2', form: 'Tabletten' };

function input(egkName: string, hbaName: string, smcbName: string, medication: KbvMedication): KbvPrescriptionInput {
  const egk = loadPersona(egkName) as EgkPersona;
  return {
    patient: patientFromEgk(egk),
    coverage: coverageFromEgk(egk),
    prescriber: prescriberFromHba(loadPersona(hbaName) as HbaPersona),
    organization: organizationFromSmcb(loadPersona(smcbName) as SmcbPersona),
    medication,
    dosage: '1-0-1-0',
  };
}

const CASES: Array<[string, string, string, KbvMedication, 'GKV' | 'PKV']> = [
  ['Jonas Keller', 'Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', IBUPROFEN, 'GKV'],
  ['Anna Richter', 'Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', FREETEXT, 'GKV'],
  ['Claudia Neumann', 'Dr. Miriam Voss', 'Praxis Dr. Miriam Voss', IBUPROFEN, 'PKV'],
  ['Dr. Friedrich Hoffmann', 'Dr. Miriam Voss', 'Praxis Dr. Miriam Voss', FREETEXT, 'PKV'],
];

for (const [egk, hba, smcb, med, kind] of CASES) {
  test(`bundle for ${egk} (${kind}, ${med.kind}) by ${hba} validates without errors and reads back`, () => {
    const id = buildPrescriptionId(kind === 'PKV' ? 200 : 160, 4711);
    const bundle = buildKbvBundle({ ...input(egk, hba, smcb, med), prescriptionId: id }, { now: new Date('2025-03-04T10:00:00Z') });
    const errors = errorsOf(validateKbvBundle(bundle));
    assert.deepEqual(errors, [], 'no validation errors');
    const back = parseFhirXml(serializeKbvBundle(bundle).toString('utf8'));
    assert.deepEqual(errorsOf(validateKbvBundle(back)), [], 'the serialized XML validates too');
    const e = loadPersona(egk) as EgkPersona;
    assert.equal(prescriptionIdOf(back), id);
    assert.equal(patientKvnrOf(back)?.kvnr, e.insurance.kvnr);
    assert.equal(patientKvnrOf(back)?.kind, kind);
    assert.deepEqual(coverageOf(back), { type: kind, payorIk: e.insurance.iknr, payorName: e.insurance.insurer });
    const pr = prescriberOf(back);
    assert.ok(pr?.lanr && isValidLanr(pr.lanr), 'a valid LANR');
    assert.match(pr?.name ?? '', new RegExp((loadPersona(hba) as HbaPersona).person.surname));
    const mr = (back.entry as FhirJson[]).map((x) => x.resource as FhirJson).find((r) => r.resourceType === 'MedicationRequest') as FhirJson;
    assert.equal(mr.authoredOn, '2025-03-04');
  });
}

test('the PrescriptionID goes into Bundle.identifier (A_18544); without one, or with one of the wrong flow type, the bundle is invalid', () => {
  const base = buildKbvBundle(input('Jonas Keller', 'Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', IBUPROFEN));
  assert.equal(base.identifier, undefined);
  assert.ok(errorsOf(validateKbvBundle(base)).some((i) => i.location === 'Bundle.identifier'), 'no PrescriptionID: refused');
  const id = buildPrescriptionId(160, 99);
  const withId = withPrescriptionId(base, id);
  assert.equal(prescriptionIdOf(withId), id);
  assert.deepEqual(Object.keys(withId).slice(0, 4), ['resourceType', 'id', 'meta', 'identifier'], 'identifier in FHIR element order');
  assert.doesNotThrow(() => assertValidKbvBundle(withId));
  const pkvFlow = withPrescriptionId(base, buildPrescriptionId(200, 99));
  assert.throws(() => assertValidKbvBundle(pkvFlow), (e: unknown) => e instanceof KbvBundleError && /flow type 200/.test(e.message));
  assert.throws(() => withPrescriptionId(base, '160.000.000.000.000.00'));
});

test('broken input is refused with issues naming the field: missing PZN, invalid KVNR, LANR, IK, no ingredient', () => {
  const good = input('Jonas Keller', 'Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', IBUPROFEN);
  assert.doesNotThrow(() => checkPrescriptionInput(good));
  const refused = (bad: KbvPrescriptionInput, location: string) => {
    assert.throws(
      () => buildKbvBundle(bad),
      (e: unknown) => e instanceof KbvBundleError && e.issues.some((i) => i.location === location && i.severity === 'error'),
      `refused at ${location}`,
    );
  };
  refused({ ...good, medication: { ...IBUPROFEN, pzn: '' } as KbvMedication }, 'medication.pzn');
  refused({ ...good, medication: { ...IBUPROFEN, pzn: '06313729' } as KbvMedication }, 'medication.pzn');
  refused({ ...good, patient: { ...good.patient, kvnr: 'X123456789' } }, 'patient.kvnr');
  refused({ ...good, prescriber: { ...good.prescriber, lanr: '123456701' } }, 'prescriber.lanr');
  refused({ ...good, coverage: { ...good.coverage, payorIk: '12345' } }, 'coverage.payorIk');
  refused({ ...good, medication: { kind: 'pzn', pzn: '06313728', name: 'x' } as unknown as KbvMedication }, 'medication.ingredient');
  refused({ ...good, patient: { ...good.patient, birthDate: '02.11.1964' } }, 'patient.birthDate');
  refused({ ...good, quantity: 0 }, 'quantity');
});

test('a bundle broken after building (PZN coding removed) fails the profile validation', () => {
  const bundle = buildKbvBundle({ ...input('Jonas Keller', 'Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', IBUPROFEN), prescriptionId: buildPrescriptionId(160, 7) });
  const med = (bundle.entry as FhirJson[]).map((x) => x.resource as FhirJson).find((r) => r.resourceType === 'Medication') as FhirJson;
  (med.code as FhirJson).coding = [];
  const errors = errorsOf(validateKbvBundle(bundle));
  assert.ok(errors.some((i) => /Medication|entry\[2\]/.test(i.location)), `a Medication error, got ${JSON.stringify(errors)}`);
  assert.throws(() => assertValidKbvBundle(bundle), KbvBundleError);
});

test('number checks: PZN (mod 11), LANR (check digit), Berlin date', () => {
  assert.equal(isValidPzn('06313728'), true);
  assert.equal(isValidPzn('06313727'), false);
  assert.equal(isValidPzn('0631372'), false);
  assert.equal(isValidLanr('123456628'), true, 'the LANR of the KBV example');
  assert.equal(isValidLanr('123456728'), false);
  assert.equal(berlinDate(new Date('2025-03-04T23:30:00Z')), '2025-03-05', 'after midnight in Berlin');
});
