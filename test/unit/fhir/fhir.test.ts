import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedPath } from '../../../simulators/lib/shared-data';
import {
  FhirFormatError, FhirJson, FhirResource, canonicalXml, errorsOf, hasErrors, loadPackageRegistry, parseFhir, parseFhirJson, parseFhirXml,
  serializeFhirJson, serializeFhirXml, validateResource, ValidationIssue,
  prescriptionIdOf, patientKvnrOf, isValidKvnr, coverageOf, prescriberOf, authoredOnOf, flowTypeHintOf, operationOutcome, outcomeIssuesFromValidation,
} from '../../../simulators/lib/fhir';

const KBV_DIR = sharedPath('reference', 'kbv-bundles');
const NEG_DIR = sharedPath('reference', 'negative-bundles');
const kbvFiles = fs.readdirSync(KBV_DIR).filter((f) => f.endsWith('.xml')).sort();
const negFiles = fs.readdirSync(NEG_DIR).filter((f) => f.endsWith('.xml')).sort();
const readXml = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
const load = (f: string) => parseFhirXml(readXml(KBV_DIR, f));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const entryOf = (b: FhirJson, type: string) => (b.entry as Array<{ resource: FhirJson }>).find((e) => e.resource.resourceType === type)!.resource;
const show = (issues: ValidationIssue[]) => issues.map((i) => `${i.severity} ${i.rule} ${i.location}: ${i.message}`).join('\n');

describe('FHIR package registry', () => {
  const reg = loadPackageRegistry();
  it('loads every package of ../shared/fhir-packages', () => {
    const names = reg.packages.map((p) => `${p.name}#${p.version}`);
    for (const n of ['kbv.ita.erp#1.3.1', 'kbv.ita.erp#1.4.0', 'kbv.basis#1.7.0', 'de.basisprofil.r4#1.5.4', 'de.gematik.erezept-workflow.r4#1.6.1']) assert.ok(names.includes(n), n);
  });
  it('resolves url|major.minor to the matching package version and plain url to the highest', () => {
    const url = 'https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle';
    assert.equal(reg.structureDefinition(`${url}|1.3`)?.pkg.version, '1.3.1');
    assert.equal(reg.structureDefinition(`${url}|1.3`)?.resource.version, '1.3.0');
    assert.equal(reg.structureDefinition(`${url}|1.4.0`)?.pkg.version, '1.4.0');
    assert.equal(reg.structureDefinition(url)?.resource.version, '1.4.0');
    assert.equal(reg.structureDefinition(`${url}|1.0.2`), undefined);
    assert.ok(reg.valueSet('https://fhir.kbv.de/ValueSet/KBV_VS_SFHIR_KBV_DMP'));
    assert.ok(reg.codeSystem('https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_DMP'));
  });
});

describe('FHIR XML ↔ JSON', () => {
  it(`round-trips all ${kbvFiles.length} KBV bundles XML → JSON → XML (canonical compare)`, () => {
    assert.equal(kbvFiles.length, 29);
    for (const f of kbvFiles) {
      const xml = readXml(KBV_DIR, f);
      const json = parseFhirXml(xml);
      assert.equal(canonicalXml(serializeFhirXml(json)), canonicalXml(xml), f);
      // and through JSON text
      assert.equal(canonicalXml(serializeFhirXml(parseFhirJson(serializeFhirJson(json)), { pretty: true, declaration: true })), canonicalXml(xml), f);
    }
  });
  it('follows the R4 JSON rules: arrays by cardinality, primitive extensions in _name, numbers, resourceType', () => {
    const b = load('Beispiel_1_PZN.xml');
    assert.equal(b.resourceType, 'Bundle');
    assert.ok(Array.isArray(b.entry));
    assert.ok(!Array.isArray(b.identifier));
    const patient = entryOf(b, 'Patient');
    const name = (patient.name as FhirJson[])[0];
    assert.equal(typeof name.family, 'string');
    assert.ok(Array.isArray((name._family as FhirJson).extension), 'family extensions go to _family');
    const med = entryOf(b, 'MedicationRequest');
    assert.equal(typeof ((med.dispenseRequest as FhirJson).quantity as FhirJson).value, 'number');
  });
  it('writes XML in definition order even when the JSON is not', () => {
    const oo: FhirResource = { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'd', code: 'invalid', severity: 'error' }] } as FhirResource;
    assert.equal(serializeFhirXml(oo), '<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="invalid"/><diagnostics value="d"/></issue></OperationOutcome>');
    const ext = { resourceType: 'Patient', birthDate: '2000-01-01', id: 'p', _birthDate: { extension: [{ valueCode: 'unknown', url: 'http://x' }] } } as FhirResource;
    assert.equal(serializeFhirXml(ext), '<Patient xmlns="http://hl7.org/fhir"><id value="p"/><birthDate value="2000-01-01"><extension url="http://x"><valueCode value="unknown"/></extension></birthDate></Patient>');
  });
  it('keeps narrative XHTML', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><id value="a"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi &amp; <b>bye</b></p></div></text></Patient>';
    const j = parseFhirXml(xml);
    assert.match((j.text as FhirJson).div as string, /^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml"><p>Hi &amp; <b>bye<\/b><\/p><\/div>$/);
    assert.equal(canonicalXml(serializeFhirXml(j)), canonicalXml(xml));
  });
  it('rejects malformed input with a clear FhirFormatError', () => {
    const cases: Array<[string, RegExp]> = [
      ['<Bundle xmlns="http://hl7.org/fhir"><id value="1"/>', /malformed XML: unterminated element/],
      ['<Bundle><id value="1"/></Bundle>', /not in the FHIR namespace/],
      ['<Bundel xmlns="http://hl7.org/fhir"/>', /not a FHIR R4 resource type/],
      ['<Bundle xmlns="http://hl7.org/fhir"><foo value="1"/></Bundle>', /unknown element "foo" in Bundle/],
      ['<Bundle xmlns="http://hl7.org/fhir"><type value="a"/><type value="b"/></Bundle>', /occurs more than once but does not repeat/],
      ['<Bundle xmlns="http://hl7.org/fhir"><total value="x"/></Bundle>', /"x" is not an integer/],
      ['<Bundle xmlns="http://hl7.org/fhir"><entry><resource/></entry></Bundle>', /must contain exactly one resource/],
      ['{"resourceType": "Bundle", ', /malformed JSON/],
      ['{"resourceType": "Nope"}', /not an R4 resource type/],
      ['[1,2]', /neither FHIR XML nor FHIR JSON|must be an object/],
      ['hello', /neither FHIR XML nor FHIR JSON/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => parseFhir(text), (e: unknown) => e instanceof FhirFormatError && re.test((e as Error).message), text);
    }
    assert.throws(() => serializeFhirXml({ resourceType: 'Bundle', entry: { fullUrl: 'x' } } as FhirResource), FhirFormatError);
    assert.throws(() => serializeFhirXml({ resourceType: 'Bundle', bogus: 1 } as FhirResource), /unknown element "bogus"/);
  });
});

describe('FHIR profile validation', () => {
  for (const f of kbvFiles) {
    it(`accepts ${f}`, () => {
      const issues = validateResource(load(f));
      assert.equal(errorsOf(issues).length, 0, show(errorsOf(issues)));
    });
  }

  // Which rule refuses each negative bundle (gematik's negative examples, KBV 1.0.2, Coverage codes)
  const expectedNegative: Record<string, Array<[string, RegExp]>> = {
    '01': [['profile', /KBV_PR_ERP_Bundle version 1\.0\.2 is not supported/]],
    '02': [['binding', /KBV_CS_SFHIR_KBV_DMP#0 is not in the required ValueSet/], ['code-invalid', /"0" is not defined in CodeSystem https:\/\/fhir.kbv.de\/CodeSystem\/KBV_CS_SFHIR_KBV_DMP/]],
    '03': [['profile', /KBV_PR_ERP_Bundle version 1\.0\.2 is not supported/]],
    '04': [['binding', /KBV_CS_SFHIR_KBV_DMP#asthma/]],
    '05': [['binding', /KBV_CS_SFHIR_KBV_PERSONENGRUPPE#-T/]],
    '06': [['binding', /KBV_CS_SFHIR_KBV_PERSONENGRUPPE#0 /]],
    '07': [['binding', /KBV_CS_SFHIR_KBV_PERSONENGRUPPE#10 /]],
    '08': [['code-invalid', /"gkv" is not defined in CodeSystem http:\/\/fhir.de\/CodeSystem\/versicherungsart-de-basis/]],
    '09': [['code-invalid', /"Inkasso" is not defined in CodeSystem http:\/\/fhir.de\/CodeSystem\/versicherungsart-de-basis/]],
    '10': [['binding', /KBV_CS_SFHIR_KBV_VERSICHERTENSTATUS#P /]],
    '11': [['binding', /KBV_CS_SFHIR_ITA_WOP#40 /]],
    '12': [['binding', /KBV_CS_SFHIR_ITA_WOP#1000 /]],
  };
  for (const f of negFiles) {
    const n = /_(\d\d)\.xml$/.exec(f)![1];
    it(`refuses negative bundle ${n} with the reason`, () => {
      const issues = validateResource(parseFhirXml(readXml(NEG_DIR, f)));
      assert.ok(hasErrors(issues));
      for (const [rule, re] of expectedNegative[n]) {
        assert.ok(errorsOf(issues).some((i) => i.rule === rule && re.test(i.message)), `${n}: expected ${rule} ${re}\n${show(errorsOf(issues))}`);
      }
      // the old profile version is always named
      assert.ok(errorsOf(issues).some((i) => i.rule === 'profile' && i.location === 'Bundle'));
    });
  }

  it('reports a changed code in a required binding', () => {
    const b = load('Beispiel_1_PZN.xml');
    const med = entryOf(b, 'Medication');
    const cat = (med.extension as FhirJson[]).find((e) => String(e.url).endsWith('KBV_EX_ERP_Medication_Category'))!;
    (cat.valueCoding as FhirJson).code = '99';
    const errs = errorsOf(validateResource(b));
    assert.ok(errs.some((i) => i.rule === 'binding' && /KBV_CS_ERP_Medication_Category#99 is not in the required ValueSet https:\/\/fhir.kbv.de\/ValueSet\/KBV_VS_ERP_Medication_Category/.test(i.message)
      && i.location.startsWith('Bundle.entry[') && i.location.endsWith('.valueCoding')), show(errs));
  });

  it('reports a removed mandatory element', () => {
    const b = load('Beispiel_1_PZN.xml');
    delete entryOf(b, 'MedicationRequest').authoredOn;
    const errs = errorsOf(validateResource(b));
    assert.ok(errs.some((i) => i.rule === 'cardinality' && /authoredOn occurs 0 time\(s\), at least 1 required/.test(i.message)), show(errs));
  });

  it('reports an element beyond its max cardinality', () => {
    const b = load('Beispiel_1_PZN.xml');
    const comp = entryOf(b, 'Composition');
    comp.title = 'x';
    (b.entry as FhirJson[]).push(clone((b.entry as FhirJson[]).find((e) => (e.resource as FhirJson).resourceType === 'Patient')!));
    const errs = errorsOf(validateResource(b));
    assert.ok(errs.some((i) => i.rule === 'cardinality' && /slice Patient of entry occurs 2 time\(s\), at most 1 allowed/.test(i.message)), show(errs));
  });

  it('reports fixed values, closed slicing and invariants', () => {
    const b = load('Beispiel_1_PZN.xml');
    (b.identifier as FhirJson).system = 'https://example.org/wrong';
    const errs = errorsOf(validateResource(b));
    assert.ok(errs.some((i) => i.rule === 'fixed' && i.location === 'Bundle.identifier.system'), show(errs));

    const b2 = load('Beispiel_1_PZN.xml');
    (b2.entry as FhirJson[]).splice((b2.entry as FhirJson[]).findIndex((e) => (e.resource as FhirJson).resourceType === 'Medication'), 1);
    const errs2 = errorsOf(validateResource(b2));
    assert.ok(errs2.some((i) => i.rule === '-erp-anzahlMedication' && i.location === 'Bundle'), show(errs2));

    const b3 = load('Beispiel_1_PZN.xml');
    entryOf(b3, 'MedicationRequest').authoredOn = '2024-05-20T10:00:00Z';
    const errs3 = errorsOf(validateResource(b3));
    assert.ok(errs3.some((i) => i.rule === '-erp-begrenzungDate'), show(errs3));

    const b4 = load('Beispiel_1_PZN.xml');
    const med = entryOf(b4, 'Medication');
    (med.extension as FhirJson[]).push({ url: 'https://example.org/unknown-extension', valueString: 'x' });
    const errs4 = errorsOf(validateResource(b4));
    assert.ok(errs4.some((i) => i.rule === 'slicing' && /extension https:\/\/example.org\/unknown-extension matches none of the allowed slices/.test(i.message)), show(errs4));
  });

  it('validates JSON input the same way and catches structure errors', () => {
    const b = load('Beispiel_1_PZN.xml') as FhirJson;
    (b as FhirJson).type = ['document'];
    (b as FhirJson).bogus = 1;
    const errs = errorsOf(validateResource(b));
    assert.ok(errs.some((i) => i.rule === 'structure' && /does not repeat/.test(i.message)));
    assert.ok(errs.some((i) => i.rule === 'structure' && /unknown element "bogus"/.test(i.message)));
    assert.equal(validateResource({ foo: 1 } as unknown as FhirJson)[0].severity, 'fatal');
  });

  it('validates against an explicitly requested profile', () => {
    const pat = { resourceType: 'Patient', id: 'x' } as FhirResource;
    const issues = validateResource(pat, { profile: 'https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle|1.3' });
    assert.ok(errorsOf(issues).some((i) => i.rule === 'type' && /is for Bundle, not Patient/.test(i.message)));
  });
});

describe('FHIR resource helpers', () => {
  it('reads the workflow facts of a KBV bundle', () => {
    const b = load('Beispiel_1_PZN.xml');
    assert.equal(prescriptionIdOf(b), '160.100.000.000.006.24');
    assert.deepEqual(patientKvnrOf(b), { kvnr: 'K220635158', kind: 'GKV', system: 'http://fhir.de/sid/gkv/kvid-10' });
    assert.deepEqual(coverageOf(b), { type: 'GKV', payorIk: '109719018', payorName: 'AOK Nordost' });
    const pr = prescriberOf(b)!;
    assert.equal(pr.qualificationType, '00');
    assert.equal(pr.lanr, '123456628');
    assert.equal(authoredOnOf(b), '2024-05-20');
    assert.deepEqual(flowTypeHintOf(b), { flowType: '160', coverageType: 'GKV', prescriptionIdFlowType: '160' });
    assert.equal(coverageOf(load('Beispiel_59_SKT.xml'))?.type, 'SKT');
  });
  it('checks KVNR check digits', () => {
    for (const f of kbvFiles) assert.ok(isValidKvnr(patientKvnrOf(load(f))!.kvnr), f);
    assert.equal(isValidKvnr('K220635159'), false);
    assert.equal(isValidKvnr('K22063515'), false);
    assert.equal(isValidKvnr('1220635158'), false);
  });
  it('writes an OperationOutcome from validation issues', () => {
    const issues = validateResource(parseFhirXml(readXml(NEG_DIR, negFiles[1])));
    const oo = operationOutcome(outcomeIssuesFromValidation(issues));
    const xml = serializeFhirXml(oo);
    assert.match(xml, /^<OperationOutcome xmlns="http:\/\/hl7.org\/fhir"><issue><severity value="error"\/><code value="[a-z-]+"\/><diagnostics value="/);
    assert.ok((oo.issue as FhirJson[]).some((i) => i.code === 'code-invalid' && /KBV_CS_SFHIR_KBV_DMP/.test(String(i.diagnostics))));
    assert.equal(errorsOf(validateResource(oo)).length, 0);
  });
});
