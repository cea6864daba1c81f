/**
 * EventService against real virtual cards (HBA, SMC-B, eGK through PC/SC): GetCards with the
 * information model's visibility rules and filters, cards coming and going with the cards
 * service's admin API, GetCardTerminals, GetResourceInformation, context faults — through a raw
 * SOAP client and through the npm `soap` client that knows only the WSDL. Every response is
 * validated against the gematik XSDs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as soap from 'soap';
import { ACTION, contextXml, CTX, envelope, eventually, faultOf, NSX, request, responseBody, soapCall, startFixture, validateResponse, WSDL, XSD, type Fixture } from './helpers';

let f: Fixture;

before(async () => {
  f = await startFixture({ vpcdFrom: 45100, insert: ['Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', 'Jonas Keller'] });
});

after(async () => {
  await f?.stop();
});

const getCards = (inner = '', attrs = '', ctx = contextXml()) => envelope(`<EVT:GetCards xmlns:EVT="${NSX.EVT}"${attrs}>${ctx}${inner}</EVT:GetCards>`);

async function cards(inner = '', attrs = '', ctx = contextXml()) {
  const r = await soapCall(f, '/ws/EventService', getCards(inner, attrs, ctx), `${ACTION.event}GetCards`);
  const v = validateResponse(r.text, XSD.event);
  assert.ok(v.ok, v.output);
  return r;
}

function cardList(xml: string) {
  return responseBody(xml)
    .child('Cards', NSX.CARD)!
    .children('Card', NSX.CARD)
    .map((c) => ({
      handle: c.child('CardHandle', NSX.CONN)!.text(),
      type: c.child('CardType', NSX.CARDCMN)!.text(),
      iccsn: c.child('Iccsn', NSX.CARDCMN)?.text(),
      ctId: c.child('CtId', NSX.CARDCMN)!.text(),
      slotId: c.child('SlotId', NSX.CARDCMN)!.text(),
      holder: c.child('CardHolderName', NSX.CARD)?.text(),
      kvnr: c.child('Kvnr', NSX.CARD)?.text(),
    }));
}

test('GetCards lists the three persona cards with type, ICCSN, terminal, slot, holder and KVNR', async () => {
  const r = await cards();
  assert.equal(r.status, 200);
  assert.deepEqual(
    cardList(r.text).map(({ handle: _h, ...c }) => c),
    [
      { type: 'HBA', iccsn: '80276883119910000001', ctId: 'CT-A', slotId: '1', holder: 'Hanna Ebert', kvnr: undefined },
      { type: 'SMC-B', iccsn: '80276883119920000001', ctId: 'CT-A', slotId: '2', holder: 'Praxis Dr. Hanna Ebert', kvnr: undefined },
      { type: 'EGK', iccsn: '80276883119930000001', ctId: 'CT-B', slotId: '1', holder: 'Jonas Keller', kvnr: 'K204617388' },
    ],
  );
  const body = responseBody(r.text);
  const egk = body.child('Cards', NSX.CARD)!.children('Card', NSX.CARD)[2];
  assert.match(egk.child('InsertTime', NSX.CARD)!.text(), /^\d{4}-\d\d-\d\dT/);
  assert.match(egk.child('CertificateExpirationDate', NSX.CARD)!.text(), /^\d{4}-\d\d-\d\d$/);
});

test('GetCards filters by CtId, SlotId and CardType, and honours the workplace and mandant-wide', async () => {
  const ct = (id: string) => `<CARDCMN:CtId xmlns:CARDCMN="${NSX.CARDCMN}">${id}</CARDCMN:CtId>`;
  const slot = (n: number) => `<CARDCMN:SlotId xmlns:CARDCMN="${NSX.CARDCMN}">${n}</CARDCMN:SlotId>`;
  const type = (t: string) => `<CARDCMN:CardType xmlns:CARDCMN="${NSX.CARDCMN}">${t}</CARDCMN:CardType>`;
  assert.deepEqual(cardList((await cards(ct('CT-A'))).text).map((c) => c.type), ['HBA', 'SMC-B']);
  assert.deepEqual(cardList((await cards(ct('CT-A') + slot(2))).text).map((c) => c.type), ['SMC-B']);
  assert.deepEqual(cardList((await cards(type('EGK'))).text).map((c) => c.type), ['EGK']);
  assert.deepEqual(cardList((await cards(type('HSM-B'))).text), []);
  // WP-2 has only CT-A; mandant-wide shows all of the Mandant's terminals
  const wp2 = contextXml({ ...CTX, workplaceId: 'WP-2' });
  assert.deepEqual(cardList((await cards('', '', wp2)).text).map((c) => c.type), ['HBA', 'SMC-B']);
  assert.deepEqual(cardList((await cards('', ' mandant-wide="true"', wp2)).text).map((c) => c.type), ['HBA', 'SMC-B', 'EGK']);
  // WP-2 asking for CT-B: not accessible from the workplace
  const denied = await cards(ct('CT-B'), '', wp2);
  assert.equal(denied.status, 500);
  assert.equal(faultOf(denied.text).trace[0].code, 4015);
  // a bad SlotId is a syntax error
  const bad = await cards(ct('CT-A') + slot(0));
  assert.equal(faultOf(bad.text).trace[0].code, 4000);
});

test('a card removed through the cards service disappears from GetCards; reinserted it gets a new handle', async () => {
  const before = cardList((await cards()).text);
  const egkHandle = before.find((c) => c.type === 'EGK')!.handle;
  const cardsAdmin = `${f.cards!.url}/__admin/cards`;
  const rm = await request(`${cardsAdmin}/remove`, { method: 'POST', body: JSON.stringify({ persona: 'Jonas Keller' }), headers: { 'content-type': 'application/json' } });
  assert.equal(rm.status, 200, rm.text);
  await eventually(async () => (cardList((await cards()).text).some((c) => c.type === 'EGK') ? undefined : true), 5000, 'the eGK to leave GetCards');
  // the old handle is gone for good
  const pin = await soapCall(
    f,
    '/ws/CardService',
    envelope(`<CARD:GetPinStatus xmlns:CARD="${NSX.CARD}">${contextXml()}<CONN:CardHandle xmlns:CONN="${NSX.CONN}">${egkHandle}</CONN:CardHandle><CARDCMN:PinTyp xmlns:CARDCMN="${NSX.CARDCMN}">PIN.CH</CARDCMN:PinTyp></CARD:GetPinStatus>`),
    `${ACTION.card}GetPinStatus`,
  );
  assert.equal(faultOf(pin.text).trace[0].code, 4008);
  assert.ok(validateResponse(pin.text, XSD.card81).ok);
  const ins = await request(`${cardsAdmin}/insert`, { method: 'POST', body: JSON.stringify({ persona: 'Jonas Keller', slot: 3 }), headers: { 'content-type': 'application/json' } });
  assert.equal(ins.status, 200, ins.text);
  const again = await eventually(async () => cardList((await cards()).text).find((c) => c.type === 'EGK'), 5000, 'the eGK to come back');
  assert.notEqual(again.handle, egkHandle);
  assert.deepEqual([again.ctId, again.slotId, again.kvnr], ['CT-B', '2', 'K204617388']);
});

test('GetCardTerminals and GetResourceInformation', async () => {
  const r = await soapCall(f, '/ws/EventService', envelope(`<EVT:GetCardTerminals xmlns:EVT="${NSX.EVT}">${contextXml({ ...CTX, workplaceId: 'WP-2' })}</EVT:GetCardTerminals>`), `${ACTION.event}GetCardTerminals`);
  assert.equal(r.status, 200, r.text);
  const v = validateResponse(r.text, XSD.event);
  assert.ok(v.ok, v.output);
  const terminals = responseBody(r.text).child('CardTerminals', 'http://ws.gematik.de/conn/CardTerminalInfo/v8.0')!.children('CardTerminal');
  assert.deepEqual(terminals.map((t) => t.child('CtId', NSX.CARDCMN)!.text()), ['CT-A']);
  assert.equal(terminals[0].child('Connected')!.text(), 'true');
  const list = cardList((await cards()).text);
  const smcb = list.find((c) => c.type === 'SMC-B')!;
  const ri = await soapCall(
    f,
    '/ws/EventService',
    envelope(`<EVT:GetResourceInformation xmlns:EVT="${NSX.EVT}">${contextXml()}<CONN:CardHandle xmlns:CONN="${NSX.CONN}">${smcb.handle}</CONN:CardHandle></EVT:GetResourceInformation>`),
    `${ACTION.event}GetResourceInformation`,
  );
  assert.equal(ri.status, 200, ri.text);
  const vr = validateResponse(ri.text, XSD.event);
  assert.ok(vr.ok, vr.output);
  assert.equal(responseBody(ri.text).child('Card', NSX.CARD)!.child('Iccsn', NSX.CARDCMN)!.text(), '80276883119920000001');
});

test('call-context violations are faults with the gematik codes', async () => {
  const cases: Array<[Partial<typeof CTX>, number]> = [
    [{ ...CTX, mandantId: 'Nobody' }, 4004],
    [{ ...CTX, clientSystemId: 'PVS-9' }, 4005],
    [{ ...CTX, workplaceId: 'WP-9' }, 4006],
    [{ ...CTX, clientSystemId: 'AVS-1' }, 4010],
    [{ ...CTX, workplaceId: 'WP-APO' }, 4011],
    [{ mandantId: 'Praxis-Ebert', clientSystemId: 'PVS-1', workplaceId: '' }, 4021],
    [{ mandantId: 'Praxis-Ebert', clientSystemId: 'PVS-1' }, 4021],
  ];
  for (const [ctx, code] of cases) {
    const r = await soapCall(f, '/ws/EventService', getCards('', '', contextXml(ctx)), `${ACTION.event}GetCards`);
    assert.equal(r.status, 500, JSON.stringify(ctx));
    const fault = faultOf(r.text);
    assert.equal(fault.trace[0].code, code, `${JSON.stringify(ctx)}: ${fault.trace[0].detail}`);
    const v = validateResponse(r.text, XSD.event);
    assert.ok(v.ok, v.output);
  }
  const calls = (await (await request(`${f.url}/__admin/calls?operation=GetCards`, { agent: f.agent })).text);
  const parsed = JSON.parse(calls) as { calls: Array<{ faultCode?: number; context?: { mandantId: string } }> };
  assert.ok(parsed.calls.some((c) => c.faultCode === 4004 && c.context?.mandantId === 'Nobody'), 'the admin call log records the fault');
});

test('the npm soap client built only from EventService.wsdl calls GetCards', async () => {
  const client = await soap.createClientAsync(WSDL.event, { endpoint: `${f.url}/ws/EventService` });
  const agent = f.agent;
  client.setSecurity({ addOptions: (o: Record<string, unknown>) => (o.httpsAgent = agent), toXML: () => '' } as unknown as soap.ISecurity);
  const [result] = await client.GetCardsAsync({ Context: { MandantId: CTX.mandantId, ClientSystemId: CTX.clientSystemId, WorkplaceId: CTX.workplaceId }, CardType: 'HBA' });
  assert.equal(result.Status.Result, 'OK');
  const card = Array.isArray(result.Cards.Card) ? result.Cards.Card[0] : result.Cards.Card;
  assert.equal(card.CardType, 'HBA');
  assert.equal(card.Iccsn, '80276883119910000001');
  assert.equal(card.CardHolderName, 'Hanna Ebert');
  // a context violation arrives as a SOAP fault with the gematik code in the detail
  await assert.rejects(
    client.GetCardsAsync({ Context: { MandantId: 'Nobody', ClientSystemId: CTX.clientSystemId, WorkplaceId: CTX.workplaceId } }),
    (e: { root?: { Envelope?: { Body?: { Fault?: { detail?: { Error?: { Trace?: { Code?: string } } } } } } } }) => {
      const code = e.root?.Envelope?.Body?.Fault?.detail?.Error?.Trace?.Code;
      assert.equal(String(code), '4004');
      return true;
    },
  );
});
