/**
 * Client systems of the insured (A_20555–A_20557): the Fachdienst tells the E-Rezept-FdV apart from
 * other apps of the insured (the IDP client of the access token) and answers the AccessCode only to the
 * FdV; with any insured token it performs only the insured's operations.
 *
 * The second app is the same simulated FdV code logged in as another registered IDP client
 * (KNOWN_CLIENTS.otherInsuredApp, config idp.clients "ti-harness-kassen-app"); the Leistungserbringer
 * operations are sent through the VAU with the insured's own access token.
 */
import { After, Then, When } from '@cucumber/cucumber';
import assert from 'node:assert/strict';
import { loadPersona, type EgkPersona } from '../../cards';
import { KNOWN_CLIENTS } from '../../simulators/authenticator/client-wiring';
import type { InsuredTask } from '../../simulators/fdv/prescription';
import { Fdv } from '../../simulators/fdv/fdv';
import { fetchPkiTrust } from '../../simulators/lib/idp-client';
import { VauClient } from '../../simulators/lib/vau-client';
import type { PrescriptionResult } from '../../simulators/pvs/pvs';
import { verifyAll } from '../idp/support';
import { Cleanup } from '../support/cleanup';
import { TestDefectError } from '../support/errors';
import type { TiWorld } from '../world';
import { fdvOf, scenarioSince } from './fdv-support';
import { erpState } from './support';

interface ClientState {
  otherApps: Map<string, Fdv>;
  otherListing?: InsuredTask[];
  fdvListing?: InsuredTask[];
  /** Answers of the Leistungserbringer operations sent with the insured's token. */
  leAnswers?: Array<{ operation: string; status: number; text: string }>;
  statusBefore?: string;
}

function clientState(world: TiWorld): ClientState {
  let s = world.state.get('fdv-clients') as ClientState | undefined;
  if (!s) {
    s = { otherApps: new Map() };
    world.state.set('fdv-clients', s);
  }
  return s;
}

function lastIssued(world: TiWorld, insured: string): PrescriptionResult {
  const kvnr = (loadPersona(insured) as EgkPersona).insurance.kvnr;
  const r = erpState(world).prescriptions.filter((p) => p.kvnr === kvnr).at(-1);
  if (!r) throw new TestDefectError(`no prescription for ${insured} in this scenario`);
  return r;
}

When('{string} sich mit der eGK in einer anderen App als der E-Rezept-App anmeldet und seine E-Rezepte abruft', async function (this: TiWorld, insured: string) {
  const name = loadPersona(insured).name;
  const app = await Fdv.open({ env: this.env, insured: name, relyingParty: KNOWN_CLIENTS.otherInsuredApp, userAgent: 'ti-harness-Kassen-App/0.1' });
  clientState(this).otherApps.set(name, app);
  await app.login();
  clientState(this).otherListing = (await app.listTasks({ modifiedSince: scenarioSince(this) })).items;
  clientState(this).fdvListing = (await fdvOf(this, insured).listTasks({ modifiedSince: scenarioSince(this) })).items;
});

Then('erhält die andere App das E-Rezept von {string} ohne AccessCode, die E-Rezept-App mit AccessCode', async function (this: TiWorld, insured: string) {
  const s = clientState(this);
  const r = lastIssued(this, insured);
  const other = s.otherListing?.find((t) => t.taskId === r.taskId);
  const fdv = s.fdvListing?.find((t) => t.taskId === r.taskId);
  await verifyAll(this, ['A_20556', 'A_20555'], 'Der Fachdienst erkennt das Clientsystem des Versicherten: nur die E-Rezept-App erhält den AccessCode zum Erstellen des E-Rezept-Tokens', () => {
    assert.ok(other, 'the other app does not see the prescription at all');
    assert.ok(fdv, 'the E-Rezept-App does not see the prescription');
    assert.equal(other.accessCode, undefined, 'the other app received the AccessCode');
    assert.equal(fdv.accessCode, r.token.accessCode, 'the E-Rezept-App did not receive the AccessCode');
  });
});

When('{string} mit dem Access-Token der E-Rezept-App Operationen der Leistungserbringer aufruft', async function (this: TiWorld, insured: string) {
  const fdv = fdvOf(this, insured);
  if (!fdv.authn) throw new TestDefectError('the E-Rezept-App has no own IDP login');
  const tokens = fdv.authn.tokens;
  const r = lastIssued(this, insured);
  const client = new VauClient({
    fachdienstUrl: this.env.services.fachdienst.url,
    trust: await fetchPkiTrust(this.env.services.pki.url),
    user: 'v',
    userAgent: 'ti-harness-FdV/0.1',
    accessToken: () => tokens.accessToken(),
  });
  const fhir = { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json' };
  const createBody = JSON.stringify({
    resourceType: 'Parameters',
    parameter: [{ name: 'workflowType', valueCoding: { system: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType', code: '160' } }],
  });
  const calls: Array<[string, string, string, string | undefined]> = [
    ['Task.$create', 'POST', '/Task/$create', createBody],
    ['Task.$accept', 'POST', `/Task/${r.taskId}/$accept?ac=${r.token.accessCode}`, undefined],
    ['Task.$reject', 'POST', `/Task/${r.taskId}/$reject?secret=${'0'.repeat(64)}`, undefined],
    ['Task.$close', 'POST', `/Task/${r.taskId}/$close?secret=${'0'.repeat(64)}`, undefined],
  ];
  const answers: ClientState['leAnswers'] = [];
  for (const [operation, method, target, body] of calls) {
    const res = await client.request(method, target, { headers: fhir, ...(body ? { body } : {}) });
    const outcome = res.body.length ? (JSON.parse(res.text()) as { issue?: Array<{ details?: { text?: string }; diagnostics?: string }> }) : {};
    answers.push({ operation, status: res.status, text: outcome.issue?.[0]?.details?.text ?? outcome.issue?.[0]?.diagnostics ?? '' });
  }
  clientState(this).leAnswers = answers;
  const after = await fdv.listTasks({ modifiedSince: scenarioSince(this) });
  clientState(this).statusBefore = after.items.find((t) => t.taskId === r.taskId)?.status;
});

Then('weist der Fachdienst jede dieser Operationen mit 403 für die professionOID des Versicherten ab und das E-Rezept bleibt bereit', async function (this: TiWorld) {
  const s = clientState(this);
  await verifyAll(this, ['A_20557'], 'Für Clientsysteme des Versicherten führt der Fachdienst nur die für Versicherte spezifizierten Operationen aus', () => {
    assert.equal(s.leAnswers?.length, 4);
    for (const a of s.leAnswers ?? []) {
      assert.equal(a.status, 403, `${a.operation} answered ${a.status} ${a.text}`);
      assert.equal(a.text, 'endpoint is forbidden for professionOID 1.2.276.0.76.4.49', a.operation);
    }
    assert.equal(s.statusBefore, 'ready', 'the prescription changed its status');
  });
});

After({ name: 'fdv-clients: close the other apps of the insured' }, async function (this: TiWorld) {
  const s = this.state.get('fdv-clients') as ClientState | undefined;
  if (!s) return;
  const cleanup = new Cleanup();
  for (const [name, app] of s.otherApps) await cleanup.attempt(`close the other app of ${name}`, () => app.close());
  cleanup.finish();
});
