/**
 * simulators/lib/medication-dispense.ts: the dispensing data set built from a prescription validates
 * against the workflow profiles (de.gematik.erezept-workflow.r4 1.6); broken data sets are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFhirXml, type FhirJson } from '../../../simulators/lib/fhir';
import { sharedPath } from '../../../simulators/lib/shared-data';
import {
  berlinDate,
  buildDispensation,
  dispensationErrors,
  dispensationParameters,
  MedicationDispenseError,
  PROFILE,
} from '../../../simulators/lib/medication-dispense';

const KBV = sharedPath('reference', 'kbv-bundles');
const TELEMATIK_ID = '3-SMC-B-Testkarte-883119920000005';
const bundle = (name: string) => parseFhirXml(fs.readFileSync(path.join(KBV, name), 'utf8'));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

test('all 29 KBV bundles give a valid $close and $dispense data set (no validation errors)', () => {
  const files = fs.readdirSync(KBV).filter((f) => f.endsWith('.xml'));
  assert.equal(files.length, 29);
  for (const f of files) {
    const b = bundle(f);
    const items = buildDispensation({ prescription: b, telematikId: TELEMATIK_ID, now: () => Date.parse('2025-03-28T10:00:00Z') });
    assert.equal(items.length, 1);
    const md = items[0].medicationDispense as FhirJson;
    const ident = (md.identifier as FhirJson[])[0];
    assert.equal(ident.value, ((b.identifier as FhirJson).value as string), f);
    assert.equal(md.whenHandedOver, '2025-03-28');
    assert.equal((md.medicationReference as FhirJson).reference, `urn:uuid:${items[0].medication.id as string}`);
    for (const op of ['close', 'dispense'] as const) {
      const p = dispensationParameters(items, op);
      assert.deepEqual((p.meta as FhirJson).profile, [op === 'close' ? PROFILE.closeInput : PROFILE.dispenseInput]);
      assert.deepEqual(dispensationErrors(p), [], `${f} ${op}`);
    }
  }
});

test('the data set takes the prescribed PZN/name and the patient KVNR; given values override', () => {
  const b = bundle('Beispiel_1_PZN.xml');
  const [item] = buildDispensation({ prescription: b, telematikId: TELEMATIK_ID }, { medications: [{ pzn: '12345678', name: 'Schmerzmittel', batch: { lotNumber: 'L1' } }], substituted: true });
  const med = item.medication as FhirJson;
  assert.deepEqual((med.code as FhirJson).coding, [{ system: 'http://fhir.de/CodeSystem/ifa/pzn', code: '12345678' }]);
  assert.equal((med.code as FhirJson).text, 'Schmerzmittel');
  assert.deepEqual(med.batch, { lotNumber: 'L1' });
  const md = item.medicationDispense as FhirJson;
  assert.equal(((md.subject as FhirJson).identifier as FhirJson).value, 'K220635158');
  assert.deepEqual(md.substitution, { wasSubstituted: true });
  const [asPrescribed] = buildDispensation({ prescription: b, telematikId: TELEMATIK_ID });
  assert.equal(((asPrescribed.medication.code as FhirJson).coding as FhirJson[])[0].code, '00814665');
});

test('several dispensed medications → one rxDispensation each', () => {
  const items = buildDispensation({ prescription: bundle('Beispiel_1_PZN.xml'), telematikId: TELEMATIK_ID }, { medications: [{}, { pzn: '87654321', name: 'Generikum' }] });
  const p = dispensationParameters(items, 'close');
  assert.equal((p.parameter as FhirJson[]).length, 2);
  assert.deepEqual(dispensationErrors(p), []);
});

test('the validator catches what the profiles forbid: wrong status, missing PrescriptionID, wrong profile', () => {
  const [item] = buildDispensation({ prescription: bundle('Beispiel_1_PZN.xml'), telematikId: TELEMATIK_ID });
  const wrongStatus = clone(item.medicationDispense) as FhirJson;
  wrongStatus.status = 'in-progress';
  assert.ok(dispensationErrors(wrongStatus).some((i) => i.rule === 'fixed'), JSON.stringify(dispensationErrors(wrongStatus)));
  const noId = clone(item.medicationDispense) as FhirJson;
  noId.identifier = [{ system: 'urn:other', value: 'x' }];
  assert.ok(dispensationErrors(noId).some((i) => /prescriptionID/.test(i.location)), JSON.stringify(dispensationErrors(noId)));
  const oldProfile = clone(item.medicationDispense) as FhirJson;
  (oldProfile.meta as FhirJson).profile = ['https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_MedicationDispense|1.2'];
  assert.ok(dispensationErrors(oldProfile).length > 0);
  const params = dispensationParameters([item], 'dispense');
  ((params.parameter as FhirJson[])[0].part as FhirJson[]).pop(); // $dispense requires the medication part
  assert.ok(dispensationErrors(params).some((i) => i.rule === 'cardinality'), JSON.stringify(dispensationErrors(params)));
});

test('bad input is refused with MedicationDispenseError before anything is built', () => {
  const b = bundle('Beispiel_1_PZN.xml');
  assert.throws(() => buildDispensation({ prescription: b, telematikId: TELEMATIK_ID }, { medications: [{ pzn: '123' }] }), MedicationDispenseError);
  assert.throws(() => buildDispensation({ prescription: b, telematikId: TELEMATIK_ID }, { whenHandedOver: '28.03.2025' }), /YYYY-MM-DD/);
  assert.throws(() => buildDispensation({ prescription: b, telematikId: '' }), /Telematik-ID/);
  const noPatient = clone(b) as FhirJson;
  noPatient.entry = (noPatient.entry as FhirJson[]).filter((e) => (e.resource as FhirJson).resourceType !== 'Patient');
  assert.throws(() => buildDispensation({ prescription: noPatient, telematikId: TELEMATIK_ID }), /KVNR/);
  const noId = clone(b) as FhirJson;
  delete noId.identifier;
  assert.throws(() => buildDispensation({ prescription: noId, telematikId: TELEMATIK_ID }), /PrescriptionID/);
  assert.throws(() => dispensationParameters([], 'close'), /at least one/);
});

test('the real $close Parameters of the E2E suite (profile 1.4 → 1.6) validate: the builder matches production shape', () => {
  const text = fs.readFileSync(sharedPath('reference', 'ru-dumps', 'Apotheke', 'quittung_erneut_abfragen', '008_Request_Parameters.xml'), 'utf8').replace(/\|1\.4/g, '|1.6');
  assert.deepEqual(dispensationErrors(parseFhirXml(text)), []);
});

test('berlinDate: the pharmacy day in Europe/Berlin', () => {
  assert.equal(berlinDate(Date.parse('2025-03-27T23:30:00Z')), '2025-03-28');
  assert.equal(berlinDate(Date.parse('2025-07-01T21:59:00Z')), '2025-07-01');
  assert.equal(berlinDate(Date.parse('2025-07-01T22:00:00Z')), '2025-07-02');
});
