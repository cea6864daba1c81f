/**
 * CardService against real virtual cards: VerifyPin, GetPinStatus, ChangePin, UnblockPin (8.1 and
 * 8.2), the PIN pad (persona PIN or queued entries), PIN faults, terminal rules (4016 for PIN entry
 * at a remote terminal), and the npm soap client from CardService_v8_1_2.wsdl. All responses
 * validated against the XSDs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as soap from 'soap';
import { ACTION, contextXml, CTX, envelope, faultOf, NSX, request, responseBody, soapCall, startFixture, validateResponse, WSDL, XSD, type Fixture } from './helpers';

let f: Fixture;
const handles: Record<string, string> = {};

before(async () => {
  f = await startFixture({ vpcdFrom: 45200, insert: ['Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', 'Jonas Keller'] });
  for (const c of f.konnektor.context.cards.list()) handles[c.type] = c.handle;
});

after(async () => {
  await f?.stop();
});

const CARD82 = 'http://ws.gematik.de/conn/CardService/v8.2';

async function pinOp(op: string, handle: string, pinTyp: string, opts: { ctx?: string; extra?: string; v82?: boolean } = {}) {
  const ns = opts.v82 ? CARD82 : NSX.CARD;
  const body = envelope(
    `<CARD:${op} xmlns:CARD="${ns}">${opts.ctx ?? contextXml()}<CONN:CardHandle xmlns:CONN="${NSX.CONN}">${handle}</CONN:CardHandle><CARDCMN:PinTyp xmlns:CARDCMN="${NSX.CARDCMN}">${pinTyp}</CARDCMN:PinTyp>${opts.extra ?? ''}</CARD:${op}>`,
  );
  const r = await soapCall(f, opts.v82 ? '/ws/CardService/v8.2' : '/ws/CardService', body, `${opts.v82 ? 'http://ws.gematik.de/conn/CardService/v8.2#' : ACTION.card}${op}`);
  const v = validateResponse(r.text, opts.v82 ? XSD.card82 : XSD.card81);
  assert.ok(v.ok, `${op}: ${v.output}\n${r.text}`);
  return r;
}

function pinResult(xml: string) {
  const b = responseBody(xml);
  return { result: b.child('PinResult', NSX.CARDCMN)?.text(), left: b.child('LeftTries', NSX.CARDCMN)?.text() };
}

function pinStatus(xml: string, ns: string = NSX.CARD) {
  const b = responseBody(xml);
  return { status: b.child('PinStatus', ns)?.text(), left: b.child('LeftTries', ns)?.text() };
}

const queue = (iccsn: string, entries: string[]) =>
  request(`${f.url}/__admin/pinpad`, { method: 'POST', agent: f.agent, body: JSON.stringify({ iccsn, entries }), headers: { 'content-type': 'application/json' } });

test('VerifyPin with the persona PIN: VERIFIABLE → OK → VERIFIED (HBA PIN.QES, PIN.CH; SMC-B PIN.SMC; eGK PIN.home)', async () => {
  assert.deepEqual(pinStatus((await pinOp('GetPinStatus', handles.HBA, 'PIN.QES')).text), { status: 'VERIFIABLE', left: '3' });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.HBA, 'PIN.QES')).text), { result: 'OK', left: undefined });
  assert.deepEqual(pinStatus((await pinOp('GetPinStatus', handles.HBA, 'PIN.QES')).text), { status: 'VERIFIED', left: undefined });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.HBA, 'PIN.CH')).text).result, 'OK');
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles['SMC-B'], 'PIN.SMC')).text).result, 'OK');
  assert.deepEqual(pinStatus((await pinOp('GetPinStatus', handles['SMC-B'], 'PIN.SMC', { v82: true })).text, CARD82), { status: 'VERIFIED', left: undefined });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.home')).text).result, 'OK');
});

test('a wrong PIN from the PIN pad is REJECTED with LeftTries; the right one resets the counter', async () => {
  const iccsn = '80276883119920000001';
  assert.equal((await queue(iccsn, ['999999'])).status, 200);
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles['SMC-B'], 'PIN.SMC')).text), { result: 'REJECTED', left: '2' });
  assert.deepEqual(pinStatus((await pinOp('GetPinStatus', handles['SMC-B'], 'PIN.SMC')).text), { status: 'VERIFIABLE', left: '2' });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles['SMC-B'], 'PIN.SMC', { v82: true })).text), { result: 'OK', left: undefined });
  assert.deepEqual(pinStatus((await pinOp('GetPinStatus', handles['SMC-B'], 'PIN.SMC')).text).status, 'VERIFIED');
});

test('three wrong PINs block; UnblockPin with the PUK sets the PIN again; ChangePin changes it', async () => {
  const iccsn = '80276883119930000001'; // Jonas Keller's eGK, PIN.CH
  await queue(iccsn, ['111111', '111111', '111111']);
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH')).text), { result: 'REJECTED', left: '2' });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH')).text), { result: 'REJECTED', left: '1' });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH')).text), { result: 'NOWBLOCKED', left: '0' });
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH')).text), { result: 'WASBLOCKED', left: '0' });
  assert.equal(pinStatus((await pinOp('GetPinStatus', handles.EGK, 'PIN.CH')).text).status, 'BLOCKED');
  // a wrong PUK first: LeftTries counts the PUK uses left
  await queue(iccsn, ['00000000']);
  const wrongPuk = pinResult((await pinOp('UnblockPin', handles.EGK, 'PIN.CH')).text);
  assert.equal(wrongPuk.result, 'REJECTED');
  assert.match(wrongPuk.left ?? '', /^\d+$/);
  assert.deepEqual(pinResult((await pinOp('UnblockPin', handles.EGK, 'PIN.CH', { extra: `<CARD:SetNewPin>true</CARD:SetNewPin>` })).text).result, 'OK');
  // RESET RETRY COUNTER resets the counter but does not verify the PIN
  assert.deepEqual(pinStatus((await pinOp('GetPinStatus', handles.EGK, 'PIN.CH')).text), { status: 'VERIFIABLE', left: '3' });
  // ChangePin to 654321 (the PIN pad types old, then new); VerifyPin then uses the new PIN
  await queue(iccsn, ['123456', '654321']);
  assert.deepEqual(pinResult((await pinOp('ChangePin', handles.EGK, 'PIN.CH')).text).result, 'OK');
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH')).text).result, 'OK');
  await queue(iccsn, ['123456']);
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH')).text), { result: 'REJECTED', left: '2' }, 'the old PIN no longer works');
  assert.deepEqual(pinResult((await pinOp('VerifyPin', handles.EGK, 'PIN.CH', { v82: true })).text).result, 'OK');
});

test('PIN faults: unknown PinTyp, unknown handle, missing elements, remote terminal, wrong SetNewPin', async () => {
  const code = async (r: Promise<{ text: string }>) => faultOf((await r).text).trace[0].code;
  assert.equal(await code(pinOp('VerifyPin', handles.EGK, 'PIN.QES')), 4000);
  assert.equal(await code(pinOp('VerifyPin', 'no-such-handle', 'PIN.CH')), 4008);
  // WP-3 reaches CT-B only remotely: PIN status yes, PIN entry no
  const wp3 = contextXml({ ...CTX, workplaceId: 'WP-3' });
  assert.equal(pinStatus((await pinOp('GetPinStatus', handles.EGK, 'PIN.CH', { ctx: wp3 })).text).status !== undefined, true);
  assert.equal(await code(pinOp('VerifyPin', handles.EGK, 'PIN.CH', { ctx: wp3 })), 4016);
  // WP-2 does not reach CT-B at all
  assert.equal(await code(pinOp('GetPinStatus', handles.EGK, 'PIN.CH', { ctx: contextXml({ ...CTX, workplaceId: 'WP-2' }) })), 4015);
  assert.equal(await code(pinOp('UnblockPin', handles.EGK, 'PIN.CH', { extra: '<CARD:SetNewPin>maybe</CARD:SetNewPin>' })), 4000);
  // PinTyp missing
  const noPinTyp = await soapCall(
    f,
    '/ws/CardService',
    envelope(`<CARD:VerifyPin xmlns:CARD="${NSX.CARD}">${contextXml()}<CONN:CardHandle xmlns:CONN="${NSX.CONN}">${handles.EGK}</CONN:CardHandle></CARD:VerifyPin>`),
    `${ACTION.card}VerifyPin`,
  );
  assert.equal(faultOf(noPinTyp.text).trace[0].code, 4000);
  assert.match(faultOf(noPinTyp.text).trace[0].detail ?? '', /expected PinTyp/);
});

test('the npm soap client built only from CardService_v8_1_2.wsdl: GetPinStatus and VerifyPin', async () => {
  const client = await soap.createClientAsync(WSDL.card, { endpoint: `${f.url}/ws/CardService` });
  const agent = f.agent;
  client.setSecurity({ addOptions: (o: Record<string, unknown>) => (o.httpsAgent = agent), toXML: () => '' } as unknown as soap.ISecurity);
  const Context = { MandantId: CTX.mandantId, ClientSystemId: CTX.clientSystemId, WorkplaceId: CTX.workplaceId };
  const [verify] = await client.VerifyPinAsync({ Context, CardHandle: handles.HBA, PinTyp: 'PIN.CH' });
  assert.equal(verify.Status.Result, 'OK');
  assert.equal(verify.PinResult, 'OK');
  const [status] = await client.GetPinStatusAsync({ Context, CardHandle: handles.HBA, PinTyp: 'PIN.CH' });
  assert.equal(status.PinStatus, 'VERIFIED');
});
