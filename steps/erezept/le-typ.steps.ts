/**
 * Steps of features/erezept/abgeben/uc4_1-le-typ.feature: the Fachdienst checks the
 * Leistungserbringer-Typ of the institution that retrieves ($accept) an E-Rezept (A_20055).
 *
 * The prescription comes from the simulated PVS (flow types 160/169/200/209); the institution's client
 * system logs in at the IDP with its SMC-B through the Konnektor and calls $accept with the AccessCode
 * (simulators/avs/avs.ts: the same client for every institution type — what counts is the professionOID
 * of its SMC-B, which the Fachdienst reads from the access token). The practice's own SMC-B already sits
 * in the practice's terminal; every other SMC-B is inserted into the free slot of the pharmacy workplace
 * (cards admin API, @simulator-only) and taken out after the scenario (steps/idp/support.ts).
 * What the Fachdienst stored is read only through its harness-only task view GET /__admin/tasks/:id.
 */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { loadPersona, type SmcbPersona } from '../../cards';
import { FachdienstRefusal } from '../../simulators/avs/avs';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { avsOf, createAvs, DEFAULT_PRACTICE, erpState, lastPrescription, openPvs, PHARMACY_CONTEXT, PRACTICE_CONTEXT } from './support';

const MEDICATION: KbvMedication = {
  kind: 'pzn',
  pzn: '06313728',
  name: 'Ibuprofen AL 400 mg',
  normSize: 'N1',
  ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } },
};

const FLOW_TYPES = ['160', '169', '200', '209'] as const;
type FlowType = (typeof FLOW_TYPES)[number];

interface LeTypeState {
  institution?: string;
  accepted?: boolean;
  error?: unknown;
}

/** The SMC-B persona of the institution that tried to retrieve the prescription. */
function institutionOf(world: TiWorld): SmcbPersona {
  const name = leState(world).institution;
  if (!name) throw new TestDefectError('no institution tried to retrieve the prescription in this scenario');
  const p = loadPersona(name);
  if (p.type !== 'SMC-B') throw new TestDefectError(`${name} is no SMC-B persona`);
  return p;
}

function leState(world: TiWorld): LeTypeState {
  const s = erpState(world);
  let v = s.extra.get('le-typ') as LeTypeState | undefined;
  if (!v) {
    v = {};
    s.extra.set('le-typ', v);
  }
  return v;
}

interface StoredTask {
  status: string;
  stored: { secret: boolean; owner: boolean };
}

async function storedTask(world: TiWorld, id: string): Promise<StoredTask> {
  const res = await world.http(world.serviceUrl('fachdienst', `/__admin/tasks/${encodeURIComponent(id)}`), { ca: await world.tiRootPem(), service: 'fachdienst' });
  if (res.status !== 200) throw new EnvironmentError(`Fachdienst: GET /__admin/tasks/${id} answered ${res.status}: ${res.text().slice(0, 200)}`);
  return res.json<StoredTask>();
}

Given(
  'die Praxis {string} hat mit dem HBA von {string} für {string} ein E-Rezept des Workflows {string} ausgestellt',
  async function (this: TiWorld, practice: string, doctor: string, patient: string, flow: string) {
    if (!(FLOW_TYPES as readonly string[]).includes(flow)) throw new TestDefectError(`flow type ${flow} is not one of ${FLOW_TYPES.join(', ')}`);
    const pvs = await openPvs(this, { practice, doctor });
    try {
      erpState(this).prescriptions.push(...(await pvs.prescribe([{ patient, medication: MEDICATION, dosage: '1-0-1-0', flowType: flow as FlowType }])));
    } catch (e) {
      throw new EnvironmentError(`precondition: ${practice} could not issue an E-Rezept of flow type ${flow} for ${patient}: ${(e as Error).message}`, { cause: e });
    }
    const id = lastPrescription(this).taskId;
    if (!id.startsWith(`${flow}.`)) throw new EnvironmentError(`precondition: the PVS issued ${id}, not a prescription of flow type ${flow}`);
  },
);

When('{string} mit ihrer SMC-B versucht, das E-Rezept beim Fachdienst abzurufen', async function (this: TiWorld, institution: string) {
  const s = leState(this);
  const name = loadPersona(institution).name;
  s.institution = name;
  // The practice's SMC-B sits in its own terminal (slot 1): its client system works in the practice's
  // context; every other SMC-B goes into the free slot of the pharmacy workplace.
  const avs =
    name === loadPersona(DEFAULT_PRACTICE).name
      ? await createAvs(this, { pharmacy: name, context: PRACTICE_CONTEXT, insertSmcb: false })
      : await createAvs(this, { pharmacy: name, context: PHARMACY_CONTEXT });
  try {
    await avs.accept(lastPrescription(this).token);
    s.accepted = true;
  } catch (e) {
    if (!(e instanceof FachdienstRefusal)) throw new EnvironmentError(`$accept by ${name} failed: ${(e as Error).message}`, { cause: e });
    s.error = e;
  }
});

Then('übergibt der Fachdienst der Einrichtung das E-Rezept mit Secret', async function (this: TiWorld) {
  const s = leState(this);
  const p = lastPrescription(this);
  const persona = institutionOf(this);
  const task = avsOf(this, persona.name).get(p.taskId);
  const stored = await storedTask(this, p.taskId);
  await verify('A_20055', `${persona.name} (professionOID ${persona.professionOid}) ist für den Workflow ${p.taskId.slice(0, 3)} abgabeberechtigt: $accept gelingt`, () => {
    assert.equal(s.error, undefined, `refused: ${(s.error as Error | undefined)?.message}`);
    assert.equal(s.accepted, true);
    assert.equal(task?.status, 'in-progress');
    assert.match(task?.secret ?? '', /^[0-9a-f]{64}$/);
    assert.equal(stored.status, 'in-progress');
  });
});

Then('weist der Fachdienst den Abruf mit {int} und dem Text {string} ab, das E-Rezept bleibt einlösbar', async function (this: TiWorld, status: number, text: string) {
  const s = leState(this);
  const p = lastPrescription(this);
  const persona = institutionOf(this);
  const stored = await storedTask(this, p.taskId);
  await verify('A_20055', `${persona.name} (professionOID ${persona.professionOid}) ist für den Workflow ${p.taskId.slice(0, 3)} nicht abgabeberechtigt: ${status} "${text}", der Task bleibt "ready" ohne Secret`, () => {
    assert.notEqual(s.accepted, true, `${persona.name} received the prescription`);
    assert.ok(s.error instanceof FachdienstRefusal, 'no refusal');
    assert.equal(s.error.status, status);
    assert.equal(s.error.texts[0], text);
    assert.equal(stored.status, 'ready');
    assert.equal(stored.stored.secret, false);
    assert.equal(stored.stored.owner, false);
  });
});
