/**
 * The information model: the environment's konnektor section (defaults, validation) and the
 * checks of a call context (4004 … 4021, 4204), terminal visibility and access (4012, 4015, 4016).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_KONNEKTOR_IDS, loadEnvironment, resolveEnvironment } from '../../../simulators/lib/config';
import { parseSoapEnvelope, SoapFault } from '../../../simulators/lib/soap';
import { InformationModel, parseCallContext } from '../../../simulators/konnektor/context';
import { contextXml, CTX, envelope, TEST_KONNEKTOR } from './helpers';

const model = new InformationModel(resolveEnvironment({ konnektor: TEST_KONNEKTOR as never }, 't.yaml').konnektor);

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SoapFault) return e.code;
    throw e;
  }
  return undefined;
}

test('without a konnektor section: TLS on, one terminal with all slots, one Mandant/client system/workplace', () => {
  const env = resolveEnvironment({ cards: { slots: 2 } }, 'x.yaml');
  const k = env.konnektor;
  assert.equal(k.tls, true);
  assert.equal(k.clientAuth, false);
  assert.deepEqual(k.cardTerminals.map((t) => [t.id, t.slots]), [[DEFAULT_KONNEKTOR_IDS.cardTerminal, [0, 1]]]);
  assert.deepEqual(k.mandants, [{ id: DEFAULT_KONNEKTOR_IDS.mandant, clientSystems: [DEFAULT_KONNEKTOR_IDS.clientSystem], workplaces: [DEFAULT_KONNEKTOR_IDS.workplace], cardTerminals: [DEFAULT_KONNEKTOR_IDS.cardTerminal] }]);
  assert.equal(env.services.konnektor.url, 'https://127.0.0.1:8442', 'TLS makes the default URL https');
  const plain = resolveEnvironment({ konnektor: { tls: false } }, 'x.yaml');
  assert.equal(plain.services.konnektor.url, 'http://127.0.0.1:8442');
  const local = loadEnvironment('local', {});
  assert.ok(local.konnektor.mandants.length >= 1);
  assert.ok(local.konnektor.cardTerminals.every((t) => t.slots.every((s) => s < local.cards.slots)));
});

test('configuration mistakes are named', () => {
  const bad = (konnektor: unknown, re: RegExp) => assert.throws(() => resolveEnvironment({ konnektor: konnektor as never }, 'x.yaml'), re);
  bad({ clientAuth: true, tls: false }, /clientAuth needs tls: true/);
  bad({ cardTerminals: [{ id: 'A', slots: [7] }] }, /cardTerminals\[0\]\.slots/);
  bad({ cardTerminals: [{ id: 'A', slots: [0] }, { id: 'B', slots: [0] }] }, /slot 0 is in both A and B/);
  bad({ mandants: [{ id: 'M', cardTerminals: ['CT-X'] }] }, /mandants\[0\]\.cardTerminals names unknown card terminal "CT-X"/);
  bad({ workplaces: [{ id: 'W', clientSystems: ['nope'] }] }, /unknown client system "nope"/);
  bad({ clientSystems: ['A', 'A'] }, /clientSystems names "A" twice/);
  bad({ mandants: [{ clientSystems: [] }] }, /mandants\[0\]\.id needs an id/);
  bad({ maxBodyBytes: 3 }, /maxBodyBytes/);
  bad({ cardTerminals: [{ id: 'A', slots: [0], macAddress: 'zz' }] }, /macAddress/);
});

test('a call context is checked in the order of the model: 4004, 4005, 4006, 4010, 4011, 4014', () => {
  assert.equal(codeOf(() => model.check(CTX)), undefined);
  assert.equal(codeOf(() => model.check({ ...CTX, mandantId: 'X' })), 4004);
  assert.equal(codeOf(() => model.check({ ...CTX, mandantId: 'X', clientSystemId: 'Y' })), 4004, 'the Mandant first');
  assert.equal(codeOf(() => model.check({ ...CTX, clientSystemId: 'Y' })), 4005);
  assert.equal(codeOf(() => model.check({ ...CTX, workplaceId: 'Z' })), 4006);
  assert.equal(codeOf(() => model.check({ ...CTX, clientSystemId: 'AVS-1' })), 4010);
  assert.equal(codeOf(() => model.check({ ...CTX, workplaceId: 'WP-APO' })), 4011);
  const m2 = new InformationModel(
    resolveEnvironment({ konnektor: { ...TEST_KONNEKTOR, mandants: [{ id: 'M', clientSystems: ['PVS-1', 'AVS-1'], workplaces: ['WP-1'], cardTerminals: [] }] } as never }, 'x.yaml').konnektor,
  );
  assert.equal(codeOf(() => m2.check({ mandantId: 'M', clientSystemId: 'AVS-1', workplaceId: 'WP-1' })), 4014);
});

test('client-certificate authentication: 4204 without a certificate or with another client system\'s', () => {
  const m = new InformationModel(
    resolveEnvironment({ konnektor: { ...TEST_KONNEKTOR, clientAuth: true, clientSystems: [{ id: 'PVS-1', certificateCn: 'PVS One' }, 'AVS-1'] } as never }, 'x.yaml').konnektor,
  );
  assert.equal(codeOf(() => m.check(CTX)), 4204);
  assert.equal(codeOf(() => m.check(CTX, { clientCertificate: Buffer.from('x'), clientCertificateCn: 'Other' })), 4204);
  assert.equal(codeOf(() => m.check(CTX, { clientCertificate: Buffer.from('x'), clientCertificateCn: 'PVS One' })), undefined);
});

test('terminal visibility and access: local, remote, Mandant, mandant-wide', () => {
  assert.deepEqual(model.visibleTerminals(CTX), ['CT-A', 'CT-B']);
  assert.deepEqual(model.visibleTerminals({ ...CTX, workplaceId: 'WP-2' }), ['CT-A']);
  assert.deepEqual(model.visibleTerminals({ ...CTX, workplaceId: 'WP-2' }, true), ['CT-A', 'CT-B']);
  assert.deepEqual(model.visibleTerminals({ mandantId: 'Apotheke', clientSystemId: 'AVS-1', workplaceId: 'WP-APO' }, true), []);
  const wp3 = { ...CTX, workplaceId: 'WP-3' };
  assert.equal(codeOf(() => model.checkTerminalAccess(wp3, 'CT-B')), undefined, 'remote is access');
  assert.equal(codeOf(() => model.checkTerminalAccess(wp3, 'CT-B', { local: true })), 4016);
  assert.equal(codeOf(() => model.checkTerminalAccess(wp3, 'CT-A')), 4015);
  assert.equal(codeOf(() => model.checkTerminalAccess({ mandantId: 'Apotheke', clientSystemId: 'AVS-1', workplaceId: 'WP-APO' }, 'CT-A')), 4012);
});

test('parseCallContext: values trimmed, UserId optional, missing values 4021, foreign or misplaced elements 4000', () => {
  const parse = (xml: string) => parseCallContext(parseSoapEnvelope(envelope(`<x:Op xmlns:x="urn:x">${xml}</x:Op>`)).body.children()[0]);
  assert.deepEqual(parse(contextXml({ ...CTX, userId: 'u1' })), { ...CTX, userId: 'u1' });
  assert.deepEqual(parse(contextXml(CTX)), CTX);
  assert.equal(codeOf(() => parse(contextXml({ mandantId: 'M', clientSystemId: 'C' }))), 4021);
  assert.equal(codeOf(() => parse(contextXml({ mandantId: ' ', clientSystemId: 'C', workplaceId: 'W' }))), 4021);
  assert.equal(codeOf(() => parse(contextXml({ ...CTX, mandantId: 'M'.repeat(65) }))), 4000);
  assert.equal(codeOf(() => parse(`<CCTX:Context xmlns:CCTX="http://ws.gematik.de/conn/ConnectorContext/v2.0"><MandantId>M</MandantId></CCTX:Context>`)), 4000);
});
