/**
 * Steps of features/erezept/referenzumgebung: gematik's reference-environment scenarios
 * (../shared/reference/ru-dumps/<Hauptdarsteller>/<dir>, named by the scenario tag @RU-Dump:<Hauptdarsteller>/<dir>)
 * replayed with our personas through the simulated PVS (simulators/pvs) and AVS (simulators/avs) and the real
 * interfaces (Konnektor, IDP, Fachdienst via VAU). The Then step compares the Fachdienst's answers — status and
 * OperationOutcome texts, taken from the actors' answer logs (Pvs.answers, Avs.answers) — with the answers the
 * dump recorded at the named step numbers (./ru-dump.ts), and verifies the requirement the feature names.
 *
 * Actors and their cleanup come from ./support.ts; the pharmacy's SMC-B goes into the free slot of its
 * workplace through the cards admin API (@simulator-only), taken out after the scenario. The insured read
 * with their E-Rezept-App (simulators/fdv, opened by ./fdv-support.ts with the eGK over PC/SC): the steps send
 * the app's requests through the app's own VAU channel (JSON, as the apps ask) so that the whole answer —
 * status, OperationOutcome texts and the Bundle's entries — can be compared with the recorded one.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { FachdienstRefusal, type Avs } from '../../simulators/avs/avs';
import type { ERezeptToken } from '../../simulators/lib/erezept-token';
import { berlinDate } from '../../simulators/lib/kbv-bundle';
import { parseFhir, parseFhirXml, type FhirJson } from '../../simulators/lib/fhir';
import type { Pvs, Prescription, PrescriptionResult } from '../../simulators/pvs/pvs';
import { FachdienstError } from '../../simulators/pvs/errors';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { openFdv } from './fdv-support';
import { bundleShape, loadRuDump, ruDumpAuthoredOn, shiftGermanDates, type RecordedResponse, type RuDump } from './ru-dump';
import { avsOf, createAvs, erpState, openPvs } from './support';
import { fhirBodyOf } from '../../simulators/lib/fachdienst-answer';

/** The medication of every replayed prescription (PZN with a valid check digit, Normgröße N1). */
const MEDICATION: Prescription['medication'] = {
  kind: 'pzn',
  pzn: '06313728',
  name: 'Ibuprofen AL 400 mg',
  normSize: 'N1',
  ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } },
};

/** An answer of the Fachdienst to one of the scenario's actors (or a raw request of a step). */
interface Answer {
  operation: string;
  status: number;
  texts: string[];
  diagnostics: string[];
  at: bigint;
  /** The parsed answer of a raw request (the insured's reads). */
  body?: FhirJson;
  /** For a Bundle of a raw request: its entries as ./ru-dump.ts bundleShape lists them. */
  shape?: string[];
}

interface RuState {
  /** Answers of raw requests the steps made themselves (the actors log their own). */
  raw: Answer[];
  /** The Berlin day the scenario's prescriptions were authored (for recorded texts naming dates). */
  authoredOn?: string;
  /** Secrets a pharmacy held before it returned or deleted the E-Rezept. */
  oldSecret?: string;
  /** Tokens a practice assigned directly to a pharmacy whose AVS is not running yet (it takes them when it starts). */
  handedOver: Map<string, ERezeptToken[]>;
  /** How many times a pharmacy provided dispensing information early ($dispense) in this scenario. */
  earlyDispensations: number;
}

function ru(world: TiWorld): RuState {
  const extra = erpState(world).extra;
  let s = extra.get('referenzumgebung') as RuState | undefined;
  if (!s) {
    s = { raw: [], handedOver: new Map(), earlyDispensations: 0 };
    extra.set('referenzumgebung', s);
  }
  return s;
}

/** The dump the scenario reproduces: its @RU-Dump:<Hauptdarsteller>/<dir> tag. */
function scenarioDump(world: TiWorld): RuDump {
  const tags = world.scenario?.tags ?? [];
  const ref = tags.map((t) => /^@RU-Dump:(.+)$/.exec(t)?.[1]).find((v): v is string => !!v);
  if (!ref) throw new TestDefectError('the scenario carries no @RU-Dump:<Hauptdarsteller>/<dir> tag');
  return loadRuDump(ref);
}

/** Every Fachdienst answer of the scenario so far, oldest first. */
function allAnswers(world: TiWorld): Answer[] {
  const s = erpState(world);
  const out: Answer[] = [...ru(world).raw];
  for (const pvs of s.pvsByPractice.values()) out.push(...pvs.answers);
  for (const avs of s.avsByPharmacy.values()) out.push(...avs.answers);
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

function precondition(what: string, e: unknown): EnvironmentError {
  return new EnvironmentError(`precondition failed (${what}): ${(e as Error).message}`, { cause: e });
}

/** Runs an operation whose refusal is the scenario's finding: Fachdienst refusals are kept (the answer log has them). */
async function attempt(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (e) {
    if (e instanceof FachdienstRefusal || e instanceof FachdienstError) return;
    throw e;
  }
}

function plusDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

async function practicePvs(world: TiWorld, doctor: string, practice: string): Promise<Pvs> {
  const s = erpState(world);
  const known = s.pvsByPractice.get(loadPersona(practice).name);
  if (known && known.doctor.name === loadPersona(doctor).name) return known;
  return openPvs(world, { practice, doctor });
}

/** Prescribes one by one (each its own $create/$activate, as the reference environment did); keeps the results. */
async function prescribe(world: TiWorld, pvs: Pvs, items: Prescription[], expectSuccess = true): Promise<PrescriptionResult[]> {
  const results: PrescriptionResult[] = [];
  ru(world).authoredOn = berlinDate(new Date());
  for (const item of items) {
    try {
      const [r] = await pvs.prescribe([item]);
      results.push(r);
      erpState(world).prescriptions.push(r);
    } catch (e) {
      if (!expectSuccess && e instanceof FachdienstError) continue;
      throw precondition(`${pvs.doctor.name} prescribes for ${String(typeof item.patient === 'string' ? item.patient : 'the patient')}`, e);
    }
  }
  return results;
}

function lastRx(world: TiWorld): PrescriptionResult {
  const p = erpState(world).prescriptions.at(-1);
  if (!p) throw new TestDefectError('no prescription in this scenario yet');
  return p;
}

/** The pharmacy's AVS (started and logged in on first use; it takes the tokens handed over to it before). */
async function pharmacyAvs(world: TiWorld, pharmacy: string): Promise<Avs> {
  const name = loadPersona(pharmacy).name;
  const known = erpState(world).avsByPharmacy.get(name);
  if (known) return known;
  let avs: Avs;
  try {
    avs = await createAvs(world, { pharmacy });
    await avs.authn?.tokens.accessToken();
  } catch (e) {
    throw precondition(`login of the AVS of ${pharmacy}`, e);
  }
  for (const token of ru(world).handedOver.get(name) ?? []) avs.remember(token);
  ru(world).handedOver.delete(name);
  return avs;
}

/**
 * Direct assignment (flow 169/209): the practice hands the token to the pharmacy. A running AVS takes it at
 * once; otherwise it waits until the pharmacy's AVS starts (so a scenario without pharmacy steps keeps the
 * pharmacy's card reader free, e.g. for the insured's eGK).
 */
function handOver(world: TiWorld, pharmacy: string, token: ERezeptToken): void {
  const name = loadPersona(pharmacy).name;
  const running = erpState(world).avsByPharmacy.get(name);
  if (running) return running.remember(token);
  const list = ru(world).handedOver.get(name) ?? [];
  list.push(token);
  ru(world).handedOver.set(name, list);
}

/** `| Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |` rows (days after today, "leer" = none) → MVO parts with one MVO-ID. */
function mvoRows(table: DataTable): Array<NonNullable<Prescription['multiplePrescription']>> {
  const today = berlinDate(new Date());
  const id = `urn:uuid:${randomUUID()}`;
  return table.hashes().map((row) => {
    const n = Number(row.Numerator);
    const d = Number(row.Denominator);
    const start = Number(row.Gueltigkeitsstart);
    const end = row.Gueltigkeitsende;
    if (![n, d, start].every(Number.isInteger)) throw new TestDefectError(`MVO row ${JSON.stringify(row)}: Numerator, Denominator and Gueltigkeitsstart must be whole numbers`);
    return { numerator: n, denominator: d, start: plusDays(today, start), ...(end && end !== 'leer' ? { end: plusDays(today, Number(end)) } : {}), id };
  });
}

function flowOf(patient: string, direct: boolean): '160' | '169' | '200' | '209' {
  const p = loadPersona(patient);
  if (p.type !== 'eGK') throw new TestDefectError(`${patient} is no insured person (eGK persona)`);
  const pkv = p.insurance.type === 'PKV';
  return direct ? (pkv ? '209' : '169') : pkv ? '200' : '160';
}

// ---------------------------------------------------------------------------------------------- Given: prescribing

Given(
  /^die Ärztin "([^"]+)" der "([^"]+)" verschreibt "([^"]+)" ein apothekenpflichtiges Medikament(?: und weist es der "([^"]+)" direkt zu)?$/,
  async function (this: TiWorld, doctor: string, practice: string, patient: string, pharmacy: string | undefined) {
    const direct = typeof pharmacy === 'string' && pharmacy.length > 0;
    const pvs = await practicePvs(this, doctor, practice);
    const [rx] = await prescribe(this, pvs, [{ patient, medication: MEDICATION, dosage: '1-0-1-0', flowType: flowOf(patient, direct) }]);
    if (pharmacy) handOver(this, pharmacy, rx.token);
  },
);

Given(
  /^die Ärztin "([^"]+)" der "([^"]+)" verschreibt "([^"]+)" folgende Mehrfachverordnung(?: und weist sie der "([^"]+)" direkt zu)?:$/,
  async function (this: TiWorld, doctor: string, practice: string, patient: string, pharmacy: string | undefined, table: DataTable) {
    const direct = typeof pharmacy === 'string' && pharmacy.length > 0;
    const pvs = await practicePvs(this, doctor, practice);
    const flowType = flowOf(patient, direct);
    const results = await prescribe(
      this,
      pvs,
      mvoRows(table).map((multiplePrescription) => ({ patient, medication: MEDICATION, dosage: '1-0-1-0', flowType, multiplePrescription })),
    );
    if (pharmacy) for (const rx of results) handOver(this, pharmacy, rx.token);
  },
);

When('die Apothekerin {string} versucht, in der {string} mit ihrem HBA ein E-Rezept für {string} auszustellen', async function (this: TiWorld, pharmacist: string, practice: string, patient: string) {
  const pvs = await practicePvs(this, pharmacist, practice);
  await prescribe(this, pvs, [{ patient, medication: MEDICATION, dosage: '1-0-1-0' }], false);
});

Given('{string} weist das E-Rezept per DataMatrix-Code der {string} zu', async function (this: TiWorld, _insured: string, pharmacy: string) {
  const s = erpState(this);
  const rx = lastRx(this);
  const pvs = s.pvs;
  if (!pvs) throw new TestDefectError('no PVS printed an E-Rezept in this scenario');
  const [png] = pvs.printDataMatrix([rx.token]);
  const avs = await pharmacyAvs(this, pharmacy);
  const tokens = avs.scan(png);
  if (!tokens.some((t) => t.prescriptionId === rx.taskId)) throw new EnvironmentError(`the AVS of ${pharmacy} read ${tokens.length} token(s) from the code, not ${rx.taskId}`);
});

// ---------------------------------------------------------------------------------------------- When: pharmacy and practice

When('die Apotheke {string} akzeptiert das E-Rezept beim Fachdienst', async function (this: TiWorld, pharmacy: string) {
  const avs = await pharmacyAvs(this, pharmacy); // a directly assigned E-Rezept: the AVS may start only now
  await attempt(() => avs.accept(lastRx(this).taskId));
});

When('die Apotheke {string} dispensiert das E-Rezept und schließt den Workflow ab', async function (this: TiWorld, pharmacy: string) {
  await attempt(() => avsOf(this, pharmacy).close(lastRx(this).taskId));
});

When('die Apotheke {string} stellt die Dispensierinformationen zeitnah bereit', async function (this: TiWorld, pharmacy: string) {
  // every provision carries its own batch, so what the insured sees shows which provision it was
  const n = ++ru(this).earlyDispensations;
  await attempt(() => avsOf(this, pharmacy).dispense(lastRx(this).taskId, { medications: [{ batch: { lotNumber: `RU-ZB-${n}`, expirationDate: '2030-12-31' } }] }));
});

When('die Apotheke {string} schließt den Workflow mit geänderten Dispensierinformationen ab', async function (this: TiWorld, pharmacy: string) {
  // a different dispensation than provided before: another package size and a batch
  await attempt(() =>
    avsOf(this, pharmacy).close(lastRx(this).taskId, { medications: [{ normSize: 'N2', batch: { lotNumber: 'RU-CH-0815', expirationDate: '2030-12-31' } }], substituted: true }),
  );
});

When('die Apotheke {string} schließt den Workflow ohne Dispensierinformationen ab', async function (this: TiWorld, pharmacy: string) {
  await attempt(() => avsOf(this, pharmacy).closeWithProvidedDispensation(lastRx(this).taskId));
});

When('die Apotheke {string} gibt das E-Rezept an den Fachdienst zurück', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  ru(this).oldSecret = avs.get(lastRx(this).taskId)?.secret;
  await attempt(() => avs.reject(lastRx(this).taskId));
});

When('die Apotheke {string} löscht das E-Rezept', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  ru(this).oldSecret = avs.get(lastRx(this).taskId)?.secret;
  await attempt(() => avs.abort(lastRx(this).taskId));
});

When('die Apotheke {string} versucht, das E-Rezept mit ihrem früheren Secret zu dispensieren', async function (this: TiWorld, pharmacy: string) {
  const rx = lastRx(this);
  const old = ru(this).oldSecret;
  if (!old) throw new TestDefectError('the pharmacy held no Secret before');
  // the AVS forgot the Secret (returned) or the whole E-Rezept (deleted): the data set is sent with the old Secret
  await attempt(() => avsOf(this, pharmacy).sendDispensation('$close', rx.taskId, parseFhirXml(rx.bundle.toString('utf8')), old));
});

When(/^die Apotheke "([^"]+)" versucht, das E-Rezept mit dem falschen Secret "([^"]+)" zu (dispensieren|löschen)$/, async function (this: TiWorld, pharmacy: string, secret: string, what: string) {
  const avs = avsOf(this, pharmacy);
  const rx = lastRx(this);
  const right = avs.get(rx.taskId)?.secret;
  avs.overrideSecret(rx.taskId, secret);
  try {
    await attempt(() => (what === 'löschen' ? avs.abort(rx.taskId) : avs.close(rx.taskId)));
  } finally {
    if (right) avs.overrideSecret(rx.taskId, right); // the AVS keeps the Secret it received with $accept
  }
});

When('die Apotheke {string} versucht, das nicht akzeptierte E-Rezept zu löschen', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  const rx = lastRx(this);
  avs.overrideSecret(rx.taskId, randomBytes(32).toString('hex')); // it has none: an AVS would have to make one up
  await attempt(() => avs.abort(rx.taskId));
});

When('die Apotheke {string} versucht, für das nicht akzeptierte E-Rezept Dispensierinformationen bereitzustellen', async function (this: TiWorld, pharmacy: string) {
  const rx = lastRx(this);
  await attempt(() => avsOf(this, pharmacy).sendDispensation('$dispense', rx.taskId, parseFhirXml(rx.bundle.toString('utf8'))));
});

When('die Apotheke {string} ruft die Quittung erneut ab', async function (this: TiWorld, pharmacy: string) {
  await attempt(() => avsOf(this, pharmacy).receipt(lastRx(this).taskId));
});

When('die Apotheke {string} verliert das E-Rezept und ruft es mit dem AccessCode erneut ab', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  avs.forgetAcceptance(lastRx(this).taskId);
  await attempt(() => avs.recover(lastRx(this).taskId));
});

When('die Apotheke {string} versucht, das nicht akzeptierte E-Rezept mit dem AccessCode abzurufen', async function (this: TiWorld, pharmacy: string) {
  await attempt(() => avsOf(this, pharmacy).recover(lastRx(this).taskId));
});

When('die Apotheke {string} versucht, die Dispensierinformationen abzurufen', async function (this: TiWorld, pharmacy: string) {
  // not an AVS function: the raw request through the AVS's VAU channel with its own access token
  const avs = avsOf(this, pharmacy);
  const r = await avs.fachdienst.request('GET', `/MedicationDispense?identifier=https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId|${lastRx(this).taskId}`, {
    headers: { Accept: 'application/fhir+xml' },
  });
  let texts: string[] = [];
  let diagnostics: string[] = [];
  try {
    const oo = parseFhir(r.text(), r.headers['content-type']);
    if (oo.resourceType === 'OperationOutcome') {
      const issues = (oo.issue as FhirJson[] | undefined) ?? [];
      texts = issues.map((i) => ((i.details as FhirJson | undefined)?.text ?? i.diagnostics) as string).filter(Boolean);
      diagnostics = issues.map((i) => i.diagnostics as string).filter(Boolean);
    }
  } catch {
    // no FHIR body: status only
  }
  ru(this).raw.push({ operation: 'GET MedicationDispense', status: r.status, texts, diagnostics, at: process.hrtime.bigint() });
});

When('die Ärztin {string} löscht das E-Rezept', async function (this: TiWorld, doctor: string) {
  const pvs = erpState(this).pvs;
  if (!pvs || pvs.doctor.name !== loadPersona(doctor).name) throw new TestDefectError(`no PVS of ${doctor} in this scenario`);
  await attempt(() => pvs.delete(lastRx(this).taskId));
});

// ---------------------------------------------------------------------------------------------- insured (E-Rezept-App)

const NS_PRESCRIPTION_ID = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId';
const READ_TASK = 'GET /Task/<id> (Versicherte)';
const READ_DISPENSES = 'GET /MedicationDispense (Versicherte)';

/** A read of the insured through their app's VAU channel (JSON), logged with the whole answer. */
async function insuredRead(world: TiWorld, insured: string, operation: string, target: string): Promise<Answer> {
  const fdv = await openFdv(world, insured);
  const r = await fdv.fachdienst.request('GET', target, { headers: { Accept: 'application/fhir+json' } });
  const body = fhirBodyOf(r); // no FHIR body: status only
  const issues = body?.resourceType === 'OperationOutcome' ? ((body.issue as FhirJson[] | undefined) ?? []) : [];
  const answer: Answer = {
    operation,
    status: r.status,
    texts: issues.map((i) => ((i.details as FhirJson | undefined)?.text ?? i.diagnostics) as string).filter(Boolean),
    diagnostics: issues.map((i) => i.diagnostics as string).filter(Boolean),
    at: process.hrtime.bigint(),
    ...(body ? { body } : {}),
    ...(body?.resourceType === 'Bundle' ? { shape: bundleShape(body) } : {}),
  };
  ru(world).raw.push(answer);
  return answer;
}

function lastRead(world: TiWorld, operation: string): Answer {
  const a = [...ru(world).raw].reverse().find((x) => x.operation === operation);
  if (!a) throw new TestDefectError(`no ${operation} in this scenario yet`);
  return a;
}

/** The MedicationDispense entries of an answer and the Medication each one references. */
function dispensesIn(a: Answer): Array<{ dispense: FhirJson; medication?: FhirJson }> {
  const entries = (a.body?.entry as FhirJson[] | undefined) ?? [];
  const byUrl = new Map(entries.map((e) => [e.fullUrl as string, e.resource as FhirJson]));
  return entries
    .map((e) => e.resource as FhirJson)
    .filter((r) => r?.resourceType === 'MedicationDispense')
    .map((dispense) => {
      const ref = (dispense.medicationReference as FhirJson | undefined)?.reference as string | undefined;
      const medication = ref ? (byUrl.get(ref) ?? byUrl.get(ref.replace(/^urn:uuid:/, ''))) : undefined;
      return { dispense, ...(medication ? { medication } : {}) };
    });
}

/** What identifies a dispensed package: PZN, Normgröße and batch. */
function packageOf(medication: FhirJson | undefined): { pzn?: string; normSize?: string; lot?: string } {
  if (!medication) return {};
  const coding = ((medication.code as FhirJson | undefined)?.coding as FhirJson[] | undefined) ?? [];
  const ext = (medication.extension as FhirJson[] | undefined) ?? [];
  return {
    pzn: coding.find((c) => c.system === 'http://fhir.de/CodeSystem/ifa/pzn')?.code as string | undefined,
    normSize: ext.find((x) => x.url === 'http://fhir.de/StructureDefinition/normgroesse')?.valueCode as string | undefined,
    lot: (medication.batch as FhirJson | undefined)?.lotNumber as string | undefined,
  };
}

/** The dump's step "Dann wird der Versicherten … das neue E-Rezept angezeigt": GET /Task/<id> in the app. */
When(/^wird (?:der|dem) Versicherten "([^"]+)" das (?:neue )?E-Rezept in der App angezeigt$/, async function (this: TiWorld, insured: string) {
  await insuredRead(this, insured, READ_TASK, `/Task/${lastRx(this).taskId}`);
});

When('{string} ruft die Dispensierinformationen zu dem E-Rezept in der App ab', async function (this: TiWorld, insured: string) {
  await insuredRead(this, insured, READ_DISPENSES, `/MedicationDispense?identifier=${encodeURIComponent(`${NS_PRESCRIPTION_ID}|${lastRx(this).taskId}`)}`);
});

/**
 * The insured's last GET /MedicationDispense shows exactly what the pharmacy provided last ($dispense or
 * $close, as its AVS sent it): as many MedicationDispenses, each for this E-Rezept and this insured, from
 * this pharmacy, handed over on the day sent, with the package (PZN, Normgröße, batch) sent.
 */
async function checkLastProvided(world: TiWorld, insured: string, pharmacy: string, a: Answer, description: string, afo = 'A_19140'): Promise<void> {
  const rx = lastRx(world);
  const avs = avsOf(world, pharmacy);
  const provided = avs.get(rx.taskId)?.dispensation;
  if (!provided?.length) throw new TestDefectError(`${pharmacy} provided no dispensing information in this scenario`);
  const kvnr = (loadPersona(insured) as { insurance?: { kvnr?: string } }).insurance?.kvnr;
  const got = dispensesIn(a);
  await verify(afo, description, () => {
    assert.equal(a.status, 200, `${a.operation} answered ${a.status} ${a.texts.join('; ')}`);
    assert.equal(got.length, provided.length, `${got.length} MedicationDispense(s) listed, the pharmacy provided ${provided.length} last`);
    got.forEach(({ dispense, medication }, i) => {
      const sent = provided[i];
      const ids = (dispense.identifier as FhirJson[] | undefined) ?? [];
      assert.equal(ids.find((x) => x.system === NS_PRESCRIPTION_ID)?.value, rx.taskId);
      assert.equal(((dispense.subject as FhirJson | undefined)?.identifier as FhirJson | undefined)?.value, kvnr, 'subject is not the insured');
      const performer = (((dispense.performer as FhirJson[] | undefined) ?? [])[0]?.actor as FhirJson | undefined)?.identifier as FhirJson | undefined;
      assert.equal(performer?.value, avs.pharmacy.telematikId, 'performer is not the pharmacy');
      assert.equal(dispense.whenHandedOver, sent.medicationDispense.whenHandedOver);
      assert.deepEqual(packageOf(medication), packageOf(sent.medication as FhirJson), 'the dispensed package differs from the one provided last');
    });
  });
}

Then('kann {string} genau die letzte bereitgestellte Dispensierinformation der {string} zu dem E-Rezept abrufen', async function (this: TiWorld, insured: string, pharmacy: string) {
  await checkLastProvided(this, insured, pharmacy, lastRead(this, READ_DISPENSES), `GET /MedicationDispense der Versicherten liefert genau die zuletzt von ${pharmacy} bereitgestellte Dispensierinformation (Packung, Charge, Abgabedatum)`);
});

Then('kann {string} keine Dispensierinformation zu dem E-Rezept mehr abrufen', async function (this: TiWorld, _insured: string) {
  const a = lastRead(this, READ_DISPENSES);
  await verify('A_19140', 'GET /MedicationDispense der Versicherten liefert nach der Rückgabe keine Dispensierinformation zu dem E-Rezept mehr', () => {
    assert.equal(a.status, 200, `GET /MedicationDispense answered ${a.status} ${a.texts.join('; ')}`);
    assert.equal(a.body?.resourceType, 'Bundle');
    assert.deepEqual(dispensesIn(a).map((d) => d.dispense.id), []);
  });
});

const READ_TASK_WITH_OUTPUT = 'GET /Task/<id>?_include=output (Versicherte)';

/** A_19141 (TAB_SYSLERP_058): the dispensing information of one E-Rezept together with its Task. */
When('{string} ruft das E-Rezept mit seinen Dispensierinformationen in der App ab', async function (this: TiWorld, insured: string) {
  await insuredRead(this, insured, READ_TASK_WITH_OUTPUT, `/Task/${lastRx(this).taskId}?_include=output`);
});

Then('enthält die Antwort das E-Rezept von {string} und genau die Dispensierinformation der {string}', async function (this: TiWorld, insured: string, pharmacy: string) {
  const a = lastRead(this, READ_TASK_WITH_OUTPUT);
  const rx = lastRx(this);
  const tasks = ((a.body?.entry as FhirJson[] | undefined) ?? []).map((e) => e.resource as FhirJson).filter((r) => r?.resourceType === 'Task');
  await verify('A_19141', `GET /Task/<id>?_include=output liefert der Versicherten den Task des E-Rezepts im Bundle`, () => {
    assert.equal(a.status, 200, `${a.operation} answered ${a.status} ${a.texts.join('; ')}`);
    assert.deepEqual(tasks.map((t) => t.id), [rx.taskId]);
    assert.equal(tasks[0]?.status, 'completed');
  });
  await checkLastProvided(this, insured, pharmacy, a, `GET /Task/<id>?_include=output enthält genau die von ${pharmacy} abgegebene Dispensierinformation`, 'A_19141');
});

/** The dump's "Und hat der Versicherte … genau 1 Medikament erhalten" (no answer recorded): the app reads the dispense. */
Then('hat {string} von der {string} genau 1 Medikament erhalten', async function (this: TiWorld, insured: string, pharmacy: string) {
  const a = await insuredRead(this, insured, READ_DISPENSES, `/MedicationDispense?identifier=${encodeURIComponent(`${NS_PRESCRIPTION_ID}|${lastRx(this).taskId}`)}`);
  await checkLastProvided(this, insured, pharmacy, a, `GET /MedicationDispense der Versicherten nennt genau das 1 Medikament, das ${pharmacy} abgegeben hat`);
});

// ---------------------------------------------------------------------------------------------- Then

/**
 * The last k answers of the Fachdienst in this scenario (k = number of steps named) against the answers the
 * dump recorded at those steps, in order: the same HTTP status and the same OperationOutcome texts
 * (details.text, else diagnostics). Dates (dd.mm.yyyy) in recorded texts are moved by the days between the
 * dump's and our day of prescription. `without`: a recorded text the specification only requires in a case
 * our personas do not reproduce — it must be absent from our answer, the rest equal.
 */
Then(
  /^antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet \(Schritte? ((?:\d{3}, )*\d{3}); ((?:A_\d+, )*A_\d+)\)(?:, ohne den Zusatz "([^"]+)")?$/,
  async function (this: TiWorld, stepList: string, afoList: string, without: string | undefined) {
    const dump = scenarioDump(this);
    const steps = stepList.split(',').map((x) => Number(x.trim()));
    const recorded: RecordedResponse[] = steps.map((n) => dump.response(n));
    const answers = allAnswers(this).slice(-steps.length);
    const ours = ru(this).authoredOn;
    const theirs = ruDumpAuthoredOn(dump);
    const shift = ours && theirs ? daysBetween(theirs, ours) : 0;
    // the Bundle's entries are compared where our answer shows them (the insured's reads, JSON in both)
    const expected = recorded.map((r, i) => ({
      status: r.status,
      texts: r.texts.map((t) => shiftGermanDates(t, shift)).filter((t) => t !== without),
      ...(answers[i]?.shape ? { entries: r.shape ?? `no JSON Bundle recorded as step ${r.number}` } : {}),
    }));
    const actual = answers.map((a) => ({ status: a.status, texts: a.texts, ...(a.shape ? { entries: a.shape } : {}) }));
    const what = recorded
      .map((r) => `Schritt ${String(r.number).padStart(3, '0')}: ${r.status}${r.texts.length ? ` "${r.texts.join('" + "')}"` : ''}${r.shape ? ` Bundle [${r.shape.join(', ')}]` : ''}${r.request ? ` auf ${r.request.replace(/(secret|ac)=[0-9a-z]+/gi, '$1=…')}` : ''}`)
      .join('; ');
    for (const afo of afoList.split(', ')) {
      await verify(afo, `Der Fachdienst antwortet wie in der Referenzumgebung (${dump.ref}): ${what}`, () => {
        assert.equal(answers.length, steps.length, `the scenario has ${answers.length} Fachdienst answers, ${steps.length} expected`);
        assert.deepEqual(actual, expected);
        if (without) assert.ok(!answers.some((a) => a.texts.includes(without)), `our answer carries "${without}"`);
      });
    }
  },
);

Then('hat der Fachdienst die Rückgabe ohne Inhalt bestätigt', async function (this: TiWorld) {
  const last = allAnswers(this).at(-1);
  await verify('A_18561', 'Der Fachdienst nimmt die Rückgabe ($reject mit Secret) an und antwortet 204 ohne Inhalt', () => {
    assert.ok(last, 'no Fachdienst answer in this scenario');
    assert.deepEqual({ operation: last.operation, status: last.status }, { operation: '$reject', status: 204 });
  });
});
