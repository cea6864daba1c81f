/**
 * $activate with an invalid LANR/ZANR check digit (production ActivateTaskHandler in "warning" mode,
 * A_23891/A_24033/A_23090): the Task is activated anyway, the answer is HTTP 252 with
 * `Warning: 252 erp-server Ungültige Arztnummer …` and the number in the outer response header LANR.
 * A valid LANR gives the plain 200 without a Warning. Client side: the retry rules never repeat a 252,
 * and the Warning text is extracted for the PVS answer log.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { loadPersona } from '../../../cards';
import type { EgkPersona, HbaPersona, SmcbPersona } from '../../../cards/persona';
import { isRetryableStatus, withErpRetry } from '../../../simulators/lib/erp-retry';
import { warningTextsOf } from '../../../simulators/lib/fachdienst-answer';
import type { FhirResource } from '../../../simulators/lib/fhir';
import { buildKbvBundle, coverageFromEgk, organizationFromSmcb, patientFromEgk, prescriberFromHba, serializeKbvBundle, withPrescriptionId } from '../../../simulators/lib/kbv-bundle';
import { ACTIVATE_TEXT, findInvalidAnr, hasValidAnrChecksum } from '../../../simulators/fachdienst/workflow/activate-checks';
import type { IssuedCertificateWithKey } from '../../../simulators/pki/hierarchy';
import { innerHttp, startFdFixture, vauCall, type FdFixture } from './helpers';
import { activateParameters, berlinDay, createParameters, fhir, signWith, statusOf, valueOf, practiceLogin } from './workflow-helpers';

/** Fixed by production's own test (BdeV2Test.InvalidLanr): check digit should be 8. */
const INVALID_LANR = '844444400';
const VALID_LANR = '844444800';
const WARNING = `252 erp-server ${ACTIVATE_TEXT.anrChecksum}`;

function bundleWithLanr(lanr: string, authoredOn: string, prescriptionId: string): FhirResource {
  const egk = loadPersona('Jonas Keller') as EgkPersona;
  const bundle = buildKbvBundle(
    {
      patient: patientFromEgk(egk),
      coverage: coverageFromEgk(egk),
      prescriber: prescriberFromHba(loadPersona('Dr. Hanna Ebert') as HbaPersona, { lanr: VALID_LANR }),
      organization: organizationFromSmcb(loadPersona('Praxis Dr. Hanna Ebert') as SmcbPersona),
      medication: { kind: 'pzn' as const, pzn: '06313728', name: 'Ibuprofen AL 400 mg', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } },
      authoredOn,
    },
    { now: new Date(`${authoredOn}T10:00:00Z`) },
  );
  // The PVS builder refuses an invalid LANR (as a real PVS should); a faulty PVS is simulated by patching the bundle.
  const practitioner = (bundle.entry as Array<{ resource: FhirResource }>).map((e) => e.resource).find((r) => r.resourceType === 'Practitioner') as FhirResource;
  (practitioner.identifier as Array<{ value: string }>)[0].value = lanr;
  return withPrescriptionId(bundle, prescriptionId);
}

describe('LANR/ZANR check digit (production rules)', () => {
  test('check digit over digits 1–6 with weights 4,9; 555555… pseudo numbers pass; anything but 9 digits fails', () => {
    assert.equal(hasValidAnrChecksum(VALID_LANR), true);
    assert.equal(hasValidAnrChecksum(INVALID_LANR), false);
    assert.equal(hasValidAnrChecksum('123456789'), false, 'ZANR of production test InvalidZanr');
    assert.equal(hasValidAnrChecksum('555555000'), true, 'pseudo LANR, check digit would be 5');
    assert.equal(hasValidAnrChecksum('84444480'), false);
    assert.equal(hasValidAnrChecksum('84444480x'), false);
  });

  test('findInvalidAnr names the LANR of the Practitioner, and a ZANR under the KZBV system', () => {
    const bad = bundleWithLanr(INVALID_LANR, '2026-01-10', '160.000.000.000.001.54');
    assert.deepEqual(findInvalidAnr(bad), { kind: 'LANR', value: INVALID_LANR });
    assert.equal(findInvalidAnr(bundleWithLanr(VALID_LANR, '2026-01-10', '160.000.000.000.001.54')), undefined);
    const zanr = bundleWithLanr(VALID_LANR, '2026-01-10', '160.000.000.000.001.54');
    const practitioner = (zanr.entry as Array<{ resource: FhirResource }>).map((e) => e.resource).find((r) => r.resourceType === 'Practitioner') as FhirResource;
    practitioner.identifier = [{ system: 'https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ZANR', value: '123456789' }];
    assert.deepEqual(findInvalidAnr(zanr), { kind: 'ZANR', value: '123456789' });
  });
});

describe('client side of 252', () => {
  test('the retry rules never repeat a 252 (success with warning), whatever the method', async () => {
    assert.equal(isRetryableStatus(252, false), false);
    assert.equal(isRetryableStatus(252, true), false);
    let calls = 0;
    const r = await withErpRetry(async () => ({ status: 252, headers: { warning: WARNING } }), {
      idempotent: false,
      policy: { sleep: async () => undefined },
      onRetry: () => {
        calls += 1;
      },
    });
    assert.deepEqual([r.status, calls], [252, 0]);
  });

  test('warningTextsOf takes the text after code and agent (quoted or not, UTF-8 bytes decoded)', () => {
    assert.deepEqual(warningTextsOf(WARNING), [ACTIVATE_TEXT.anrChecksum]);
    assert.deepEqual(warningTextsOf(Buffer.from(WARNING, 'utf8').toString('latin1')), [ACTIVATE_TEXT.anrChecksum], 'UTF-8 bytes as the inner HTTP parser hands them over');
    assert.deepEqual(warningTextsOf('199 erp-server "Miscellaneous"'), ['Miscellaneous']);
    assert.deepEqual(warningTextsOf(undefined), []);
  });
});

describe('$activate through the VAU: invalid LANR → 252 with Warning, valid → 200', () => {
  let fx: FdFixture;
  let practice: string;
  let hba: IssuedCertificateWithKey;
  before(async () => {
    fx = await startFdFixture();
    const pki = fx.idpFx.pkiService.pki;
    practice = await practiceLogin(fx);
    hba = pki.issue({ profile: 'C.HP.QES' });
  });
  after(async () => {
    await fx?.stop();
  });

  async function activateWith(lanr: string) {
    const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    assert.equal(c.status, 201, c.body);
    const id = /<id value="([^"]*)"/.exec(c.body)?.[1] as string;
    const ac = valueOf(c.body, 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode') as string;
    const xml = serializeKbvBundle(bundleWithLanr(lanr, berlinDay(fx.fd.clock.now()), id)).toString('utf8');
    const body = activateParameters(signWith(hba, xml, fx.fd.clock.now()));
    const headers = { Host: 'erp.ti-harness.sim', Authorization: `Bearer ${practice}`, 'User-Agent': 'ti-harness-test/1.0', 'Content-Type': 'application/fhir+xml', 'X-AccessCode': ac };
    const { inner, outer } = await vauCall(fx, practice, innerHttp('POST', `/Task/${id}/$activate`, headers, Buffer.from(body, 'utf8')));
    return { id, inner, outer };
  }

  test('invalid LANR check digit: 252, Warning "252 erp-server Ungültige Arztnummer …", outer LANR header, Task ready', async () => {
    const { inner, outer } = await activateWith(INVALID_LANR);
    assert.equal(inner.status, 252, inner.body);
    assert.equal(inner.headers.warning, WARNING);
    assert.equal(outer.headers.lanr, INVALID_LANR);
    assert.equal(statusOf(inner.body), 'ready');
    assert.match(inner.body, /<Task/);
  });

  test('valid LANR: 200 without Warning and without LANR header', async () => {
    const { inner, outer } = await activateWith(VALID_LANR);
    assert.equal(inner.status, 200, inner.body);
    assert.equal(inner.headers.warning, undefined);
    assert.equal(outer.headers.lanr, undefined);
    assert.equal(statusOf(inner.body), 'ready');
  });
});
