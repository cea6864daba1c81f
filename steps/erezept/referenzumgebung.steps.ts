/**
 * Steps of features/erezept/referenzumgebung: gematik's reference-environment scenarios
 * (../shared/reference/ru-dumps/<Hauptdarsteller>/<dir>, named by the scenario tag @RU-Dump:<Hauptdarsteller>/<dir>)
 * replayed with our personas through the simulated PVS (simulators/pvs) and AVS (simulators/avs) and the real
 * interfaces (Konnektor, IDP, Fachdienst via VAU). The Then step compares the Fachdienst's answers — status and
 * OperationOutcome texts, taken from the actors' answer logs (Pvs.answers, Avs.answers) — with the answers the
 * dump recorded at the named step numbers (./ru-dump.ts), and verifies the requirement the feature names.
 *
 * Actors and their cleanup come from ./support.ts; the pharmacy's SMC-B goes into the free slot of its
 * workplace through the cards admin API (@simulator-only), taken out after the scenario.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { FachdienstRefusal, type Avs } from '../../simulators/avs/avs';
import { berlinDate } from '../../simulators/lib/kbv-bundle';
import { parseFhir, parseFhirXml, type FhirJson } from '../../simulators/lib/fhir';
import type { Pvs, Prescription, PrescriptionResult } from '../../simulators/pvs/pvs';
import { FachdienstError } from '../../simulators/pvs/errors';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { loadRuDump, ruDumpAuthoredOn, shiftGermanDates, type RecordedResponse, type RuDump } from './ru-dump';
import { avsOf, createAvs, erpState, openPvs } from './support';

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
}

interface RuState {
  /** Answers of raw requests the steps made themselves (the actors log their own). */
  raw: Answer[];
  /** The Berlin day the scenario's prescriptions were authored (for recorded texts naming dates). */
  authoredOn?: string;
  /** Secrets a pharmacy held before it returned or deleted the E-Rezept. */
  oldSecret?: string;
}

function ru(world: TiWorld): RuState {
  const extra = erpState(world).extra;
  let s = extra.get('referenzumgebung') as RuState | undefined;
  if (!s) {
    s = { raw: [] };
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

async function pharmacyAvs(world: TiWorld, pharmacy: string): Promise<Avs> {
  const known = erpState(world).avsByPharmacy.get(loadPersona(pharmacy).name);
  if (known) return known;
  try {
    const avs = await createAvs(world, { pharmacy });
    await avs.authn?.tokens.accessToken();
    return avs;
  } catch (e) {
    throw precondition(`login of the AVS of ${pharmacy}`, e);
  }
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
    if (pharmacy) (await pharmacyAvs(this, pharmacy)).remember(rx.token); // direct assignment: the practice hands the token to the pharmacy
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
    if (pharmacy) for (const rx of results) (await pharmacyAvs(this, pharmacy)).remember(rx.token);
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
  const avs = avsOf(this, pharmacy);
  await attempt(() => avs.accept(lastRx(this).taskId));
});

When('die Apotheke {string} dispensiert das E-Rezept und schließt den Workflow ab', async function (this: TiWorld, pharmacy: string) {
  await attempt(() => avsOf(this, pharmacy).close(lastRx(this).taskId));
});

When('die Apotheke {string} stellt die Dispensierinformationen zeitnah bereit', async function (this: TiWorld, pharmacy: string) {
  await attempt(() => avsOf(this, pharmacy).dispense(lastRx(this).taskId));
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
    const expected = recorded.map((r) => ({
      status: r.status,
      texts: r.texts.map((t) => shiftGermanDates(t, shift)).filter((t) => t !== without),
    }));
    const actual = answers.map((a) => ({ status: a.status, texts: a.texts }));
    const what = recorded.map((r) => `Schritt ${String(r.number).padStart(3, '0')}: ${r.status}${r.texts.length ? ` "${r.texts.join('" + "')}"` : ''}${r.request ? ` auf ${r.request.replace(/(secret|ac)=[0-9a-z]+/gi, '$1=…')}` : ''}`).join('; ');
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
