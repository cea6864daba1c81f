/**
 * Mehrfachverordnung (MVO): the KBV extension the PVS builds (kbv-bundle.ts) validates against kbv.ita.erp
 * and reads back; the $activate rules with production's texts and order; the MVO task dates (A_19445-08);
 * the $accept window (A_22635 "Teilverordnung ab dd.mm.yyyy einlösbar."); and the whole path through the
 * VAU: an MVO whose period starts tomorrow is refused at $accept until the Fachdienst's clock reaches it.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { loadPersona } from '../../../cards';
import type { EgkPersona, HbaPersona, SmcbPersona } from '../../../cards/persona';
import { errorsOf, parseFhirXml, type FhirResource } from '../../../simulators/lib/fhir';
import {
  buildKbvBundle,
  coverageFromEgk,
  organizationFromSmcb,
  patientFromEgk,
  prescriberFromHba,
  serializeKbvBundle,
  validateKbvBundle,
  withPrescriptionId,
  type KbvMultiplePrescription,
} from '../../../simulators/lib/kbv-bundle';
import { FhirError } from '../../../simulators/fachdienst/outcome';
import { PROFESSION_OID } from '../../../simulators/fachdienst/roles';
import {
  checkMultiplePrescription,
  checkMvoRedeemable,
  multiplePrescriptionOf,
  mvoExpiryAndAcceptDates,
  MVO_TEXT,
} from '../../../simulators/fachdienst/workflow/mvo';
import { issueTestSigner } from '../../../simulators/idp/testing/software-signer';
import type { IssuedCertificateWithKey } from '../../../simulators/pki/hierarchy';
import { login } from '../idp/helpers';
import { startFdFixture, type FdFixture } from './helpers';
import { activateParameters, berlinDay, createParameters, fhir, outcomeTexts, signWith, statusOf, valueOf, practiceLogin } from './workflow-helpers';

const MVO_ID = 'urn:uuid:497c760a-0460-4862-93a0-6f8491f83328';

function plusDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function mvoBundle(mvo: KbvMultiplePrescription | undefined, authoredOn: string, prescriptionId = '160.000.000.000.001.54'): FhirResource {
  const egk = loadPersona('Jonas Keller') as EgkPersona;
  const input = {
    patient: patientFromEgk(egk),
    coverage: coverageFromEgk(egk),
    prescriber: prescriberFromHba(loadPersona('Dr. Hanna Ebert') as HbaPersona),
    organization: organizationFromSmcb(loadPersona('Praxis Dr. Hanna Ebert') as SmcbPersona),
    medication: { kind: 'pzn' as const, pzn: '06313728', name: 'Ibuprofen AL 400 mg', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } },
    authoredOn,
    ...(mvo ? { multiplePrescription: mvo } : {}),
  };
  return withPrescriptionId(buildKbvBundle(input, { now: new Date(`${authoredOn}T10:00:00Z`) }), prescriptionId);
}

function refusal(fn: () => void): { status: number; text: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof FhirError) return { status: e.status, text: e.message };
    throw e;
  }
  return { status: 0, text: 'no refusal' };
}

/** Sets the MVO extension fields of a built bundle directly (cases the PVS builder would not produce). */
function withMvo(bundle: FhirResource, patch: { kennzeichen?: boolean; numerator?: number; denominator?: number; start?: string | null; end?: string; id?: string }): FhirResource {
  const copy = JSON.parse(JSON.stringify(bundle)) as FhirResource;
  const mr = (copy.entry as Array<{ resource: Record<string, unknown> }>).map((e) => e.resource).find((r) => r.resourceType === 'MedicationRequest') as Record<string, unknown>;
  const ext = (mr.extension as Array<Record<string, unknown>>).find((e) => String(e.url).endsWith('KBV_EX_ERP_Multiple_Prescription')) as { extension: Array<Record<string, unknown>> };
  const part = (url: string) => ext.extension.find((e) => e.url === url) as Record<string, any> | undefined;
  if (patch.kennzeichen !== undefined) (part('Kennzeichen') as Record<string, unknown>).valueBoolean = patch.kennzeichen;
  if (patch.numerator !== undefined) part('Nummerierung')!.valueRatio.numerator.value = patch.numerator;
  if (patch.denominator !== undefined) part('Nummerierung')!.valueRatio.denominator.value = patch.denominator;
  if (patch.start === null) delete part('Zeitraum')!.valuePeriod.start;
  else if (patch.start !== undefined) part('Zeitraum')!.valuePeriod.start = patch.start;
  if (patch.end !== undefined) part('Zeitraum')!.valuePeriod.end = patch.end;
  if (patch.id !== undefined) part('ID')!.valueIdentifier.value = patch.id;
  return copy;
}

describe('MVO: the PVS bundle', () => {
  test('an MVO part prescription validates against KBV_PR_ERP_Bundle|1.3 and reads back', () => {
    const bundle = mvoBundle({ numerator: 2, denominator: 4, start: '2025-06-26', end: '2025-09-24', id: MVO_ID }, '2025-03-28');
    assert.deepEqual(errorsOf(validateKbvBundle(bundle)), []);
    const back = multiplePrescriptionOf(parseFhirXml(serializeKbvBundle(bundle).toString('utf8')));
    assert.deepEqual(back, { isMvo: true, numerator: 2, denominator: 4, start: '2025-06-26', end: '2025-09-24', id: MVO_ID, hasNumbering: true, hasPeriod: true });
  });

  test('without MVO data the extension says Kennzeichen false only', () => {
    const back = multiplePrescriptionOf(mvoBundle(undefined, '2025-03-28'));
    assert.deepEqual(back, { isMvo: false, hasNumbering: false, hasPeriod: false });
  });

  test('the profile itself refuses a numerator above the denominator', () => {
    const bundle = mvoBundle({ numerator: 4, denominator: 3, start: '2025-03-28' }, '2025-03-28');
    assert.ok(errorsOf(validateKbvBundle(bundle)).length > 0);
  });
});

describe('MVO: $activate rules (production texts and order)', () => {
  const authoredOn = '2025-03-28';
  const base = mvoBundle({ numerator: 1, denominator: 4, start: authoredOn, id: MVO_ID }, authoredOn);
  const check = (b: FhirResource) => refusal(() => checkMultiplePrescription(multiplePrescriptionOf(b), b, authoredOn));

  test('a valid MVO and a non-MVO pass', () => {
    assert.deepEqual(check(base), { status: 0, text: 'no refusal' });
    assert.deepEqual(check(mvoBundle(undefined, authoredOn)), { status: 0, text: 'no refusal' });
  });
  const cases: Array<[string, Parameters<typeof withMvo>[1], string]> = [
    ['end before start', { start: '2025-04-10', end: '2025-04-01' }, MVO_TEXT.endBeforeStart],
    ['denominator 5', { denominator: 5 }, MVO_TEXT.tooMany],
    ['numerator 0', { numerator: 0 }, MVO_TEXT.numeratorZero],
    ['denominator 1', { denominator: 1 }, MVO_TEXT.denominatorOne],
    ['numerator 3 of 2', { numerator: 3, denominator: 2 }, MVO_TEXT.numeratorGreater],
    ['no start', { start: null }, MVO_TEXT.startMissing],
    ['start before authoredOn', { start: '2025-03-27' }, MVO_TEXT.startBeforeAuthoredOn],
    ['ID not urn:uuid', { id: 'urn:uuid:not-a-uuid' }, MVO_TEXT.idNotUrnUuid],
  ];
  for (const [name, patch, text] of cases) {
    test(`${name} → 400 "${text}"`, () => assert.deepEqual(check(withMvo(base, patch)), { status: 400, text }));
  }
  test('Kennzeichen false with Nummerierung → 400', () => {
    assert.deepEqual(check(withMvo(base, { kennzeichen: false })), { status: 400, text: MVO_TEXT.numberingWithoutMvo });
  });
});

describe('MVO: dates and the redeem window', () => {
  test('A_19445-08: ExpiryDate = AcceptDate = end, else signing day + 365 days', () => {
    assert.deepEqual(mvoExpiryAndAcceptDates({ isMvo: true, start: '2025-03-28', end: '2025-06-26', hasNumbering: true, hasPeriod: true }, '2025-03-28'), {
      expiryDate: '2025-06-26',
      acceptDate: '2025-06-26',
    });
    assert.deepEqual(mvoExpiryAndAcceptDates({ isMvo: true, start: '2025-03-28', hasNumbering: true, hasPeriod: true }, '2025-03-28'), {
      expiryDate: '2026-03-28',
      acceptDate: '2026-03-28',
    });
  });
  test('A_22635: before the start "Teilverordnung ab dd.mm.yyyy einlösbar.", on the start day and the end day redeemable', () => {
    const mvo = { isMvo: true, start: '2025-06-26', end: '2025-09-24', hasNumbering: true, hasPeriod: true };
    assert.deepEqual(refusal(() => checkMvoRedeemable(mvo, '2025-06-25')), { status: 403, text: 'Teilverordnung ab 26.06.2025 einlösbar.' });
    assert.deepEqual(refusal(() => checkMvoRedeemable(mvo, '2025-06-26')), { status: 0, text: 'no refusal' });
    assert.deepEqual(refusal(() => checkMvoRedeemable(mvo, '2025-09-24')), { status: 0, text: 'no refusal' });
    assert.deepEqual(refusal(() => checkMvoRedeemable(mvo, '2025-09-25')), { status: 403, text: 'Teilverordnung bis 24.09.2025 einlösbar.' });
    assert.deepEqual(refusal(() => checkMvoRedeemable(undefined, '2000-01-01')), { status: 0, text: 'no refusal' });
  });
});

describe('MVO through the VAU: activate, refused $accept before the start, accepted from the start day', () => {
  let fx: FdFixture;
  let practice: string;
  let pharmacy: string;
  let hba: IssuedCertificateWithKey;
  before(async () => {
    fx = await startFdFixture();
    const pki = fx.idpFx.pkiService.pki;
    practice = await practiceLogin(fx);
    pharmacy = (await login(fx.idpFx, issueTestSigner(pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.oeffentlicheApotheke }).signer)).accessJws;
    hba = pki.issue({ profile: 'C.HP.QES' });
  });
  after(async () => {
    await fx?.stop();
  });

  async function createTask(): Promise<{ id: string; ac: string }> {
    const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    assert.equal(c.status, 201, c.body);
    return { id: /<id value="([^"]*)"/.exec(c.body)?.[1] as string, ac: valueOf(c.body, 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode') as string };
  }

  async function activateMvo(t: { id: string; ac: string }, mvo: KbvMultiplePrescription, today: string) {
    const xml = serializeKbvBundle(mvoBundle(mvo, today, t.id)).toString('utf8');
    return fhir(fx, practice, 'POST', `/Task/${t.id}/$activate`, activateParameters(signWith(hba, xml, fx.fd.clock.now())), { 'X-AccessCode': t.ac });
  }

  test('part 2 of 4 from tomorrow without end: ExpiryDate = AcceptDate = today + 365; $accept 403 "Teilverordnung ab <tomorrow> einlösbar."', async () => {
    const t = await createTask();
    const today = berlinDay(fx.fd.clock.now());
    const tomorrow = plusDays(today, 1);
    const a = await activateMvo(t, { numerator: 2, denominator: 4, start: tomorrow, id: MVO_ID }, today);
    assert.equal(a.status, 200, a.body);
    assert.equal(statusOf(a.body), 'ready');
    const flat = a.body.replace(/>\s+</g, '><');
    assert.match(flat, new RegExp(`GEM_ERP_EX_ExpiryDate"><valueDate value="${plusDays(today, 365)}"`));
    assert.match(flat, new RegExp(`GEM_ERP_EX_AcceptDate"><valueDate value="${plusDays(today, 365)}"`));
    const early = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$accept?ac=${t.ac}`);
    const [y, m, d] = tomorrow.split('-');
    assert.deepEqual([early.status, outcomeTexts(early.body)], [403, [`Teilverordnung ab ${d}.${m}.${y} einlösbar.`]]);
  });

  test('part 1 of 2 from today until in 90 days: ExpiryDate = AcceptDate = end; $accept 200', async () => {
    const t = await createTask();
    const today = berlinDay(fx.fd.clock.now());
    const a = await activateMvo(t, { numerator: 1, denominator: 2, start: today, end: plusDays(today, 90), id: MVO_ID }, today);
    assert.equal(a.status, 200, a.body);
    assert.match(a.body.replace(/>\s+</g, '><'), new RegExp(`GEM_ERP_EX_ExpiryDate"><valueDate value="${plusDays(today, 90)}"`));
    const ok = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$accept?ac=${t.ac}`);
    assert.equal(ok.status, 200, ok.body);
  });

  test('an Einlösefrist starting before authoredOn is refused at $activate: the KBV profile rule comes first (production order)', async () => {
    const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    const id = /<id value="([^"]*)"/.exec(c.body)?.[1] as string;
    const ac = valueOf(c.body, 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode') as string;
    const today = berlinDay(fx.fd.clock.now());
    const bundle = withMvo(mvoBundle({ numerator: 1, denominator: 3, start: today, id: MVO_ID }, today, id), { start: plusDays(today, -1) });
    const xml = serializeKbvBundle(bundle).toString('utf8');
    const a = await fhir(fx, practice, 'POST', `/Task/${id}/$activate`, activateParameters(signWith(hba, xml, fx.fd.clock.now())), { 'X-AccessCode': ac });
    assert.deepEqual([a.status, outcomeTexts(a.body)[0]], [400, 'parsing / validation error'], a.body);
    assert.match(a.body, /-erp-multiplePrescriptionEinloesefristBeginn/);
  });
});
