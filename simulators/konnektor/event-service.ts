/**
 * EventService 7.2 (EventService.wsdl): GetCards, GetCardTerminals, GetResourceInformation.
 * The cards are those PC/SC shows right now (card-access.ts); the caller sees the card terminals
 * its workplace may use (local or remote) or, with mandant-wide="true", all of its Mandant's.
 * Subscriptions (CETP) are not implemented: Subscribe & co. answer fault 4000 (unknown operation).
 */
import { konnektorFault } from '../lib/soap';
import { el, type XmlElement } from '../lib/xml';
import type { CardInfo, KonnektorCardType } from './card-access';
import type { CallContext, KonnektorContext } from './context';
import { productInformation } from './sds';
import { expectSequence, leafText, NS, statusElement, xsBoolean, type SoapRequest, type SoapRouter } from './soap-router';

const PATH = '/ws/EventService';
const ACTION = 'http://ws.gematik.de/conn/EventService/v7.2#';
const CARD_TYPES: KonnektorCardType[] = ['EGK', 'HBA', 'SMC-B', 'UNKNOWN'];
const XSD_CARD_TYPES = ['EGK', 'HBA-qSig', 'HBA', 'SMC-B', 'HSM-B', 'SMC-KT', 'KVK', 'ZOD_2.0', 'UNKNOWN', 'HBAx', 'SM-B'];

/** CARD:Card (CardService.xsd CardInfoType) of one card. */
export function cardElement(c: CardInfo, cardNs: string = NS.CARD): XmlElement {
  return el('CARD:Card', { 'xmlns:CARD': cardNs, 'xmlns:CONN': NS.CONN, 'xmlns:CARDCMN': NS.CARDCMN }, [
    el('CONN:CardHandle', {}, c.handle),
    el('CARDCMN:CardType', {}, c.type),
    ...(c.iccsn ? [el('CARDCMN:Iccsn', {}, c.iccsn)] : []),
    el('CARDCMN:CtId', {}, c.ctId),
    el('CARDCMN:SlotId', {}, String(c.slotId)),
    el('CARD:InsertTime', {}, c.insertTime.toISOString()),
    ...(c.holderName ? [el('CARD:CardHolderName', {}, c.holderName)] : []),
    ...(c.kvnr ? [el('CARD:Kvnr', {}, c.kvnr)] : []),
    ...(c.certificateExpirationDate ? [el('CARD:CertificateExpirationDate', {}, c.certificateExpirationDate)] : []),
  ]);
}

function mandantWide(req: SoapRequest): boolean {
  const v = req.body.attr('mandant-wide');
  return v === undefined ? false : xsBoolean(v, 'mandant-wide');
}

function terminalElement(k: KonnektorContext, ctId: string): XmlElement {
  const t = k.model.terminal(ctId);
  if (!t) throw konnektorFault(4001, `card terminal ${ctId} is not configured`);
  const workplaces = k.config.workplaces.filter((w) => w.localTerminals.includes(ctId)).map((w) => w.id);
  return el('CT:CardTerminal', { 'xmlns:CT': NS.CT, 'xmlns:CONN': NS.CONN, 'xmlns:CARDCMN': NS.CARDCMN }, [
    productInformation(k.clock()),
    el('CARDCMN:CtId', {}, t.id),
    el('CONN:WorkplaceIds', {}, workplaces.map((w) => el('CONN:WorkplaceId', {}, w))),
    el('CT:Name', {}, t.name),
    el('CT:MacAddress', {}, t.macAddress),
    el('CT:IPAddress', {}, [el('CT:IPV4Address', {}, '127.0.0.1')]),
    el('CT:Slots', {}, String(t.slots.length)),
    el('CT:IS_PHYSICAL', {}, 'false'),
    el('CT:Connected', {}, String(k.cards.terminalConnected(t.id))),
  ]);
}

async function getCards(req: SoapRequest, k: KonnektorContext): Promise<XmlElement> {
  const parts = expectSequence(req.body, [
    { local: 'Context', ns: NS.CCTX },
    { local: 'CtId', ns: NS.CARDCMN, min: 0 },
    { local: 'SlotId', ns: NS.CARDCMN, min: 0 },
    { local: 'CardType', ns: NS.CARDCMN, min: 0 },
  ]);
  const call = req.context as CallContext;
  const ctId = parts.get('CtId')?.[0] ? leafText(parts.get('CtId')![0]) : undefined;
  const slotRaw = parts.get('SlotId')?.[0] ? leafText(parts.get('SlotId')![0]) : undefined;
  const typeRaw = parts.get('CardType')?.[0] ? leafText(parts.get('CardType')![0]) : undefined;
  if (slotRaw !== undefined && !/^[1-9][0-9]*$/.test(slotRaw)) throw konnektorFault(4000, `SlotId must be a positive integer, got "${slotRaw}"`);
  if (slotRaw !== undefined && ctId === undefined) throw konnektorFault(4000, 'SlotId needs a CtId');
  if (typeRaw !== undefined && !XSD_CARD_TYPES.includes(typeRaw)) throw konnektorFault(4000, `unknown CardType "${typeRaw}"`);
  const wide = mandantWide(req);
  let terminals = k.model.visibleTerminals(call, wide);
  if (ctId !== undefined) {
    if (!k.model.terminal(ctId)) throw konnektorFault(4000, `unknown CtId "${ctId}"`);
    if (!wide) k.model.checkTerminalAccess(call, ctId);
    else if (!terminals.includes(ctId)) throw konnektorFault(4012, `card terminal "${ctId}" is not assigned to Mandant "${call.mandantId}"`);
    terminals = [ctId];
  }
  await k.cards.settled();
  const cards = k.cards
    .list()
    .filter((c) => terminals.includes(c.ctId))
    .filter((c) => slotRaw === undefined || c.slotId === Number(slotRaw))
    .filter((c) => typeRaw === undefined || (CARD_TYPES as string[]).includes(typeRaw) && c.type === typeRaw);
  return el('EVT:GetCardsResponse', { 'xmlns:EVT': NS.EVT, 'xmlns:CARD': NS.CARD }, [statusElement(), el('CARD:Cards', {}, cards.map((c) => cardElement(c)))]);
}

async function getCardTerminals(req: SoapRequest, k: KonnektorContext): Promise<XmlElement> {
  expectSequence(req.body, [{ local: 'Context', ns: NS.CCTX }]);
  const terminals = k.model.visibleTerminals(req.context as CallContext, mandantWide(req));
  return el('EVT:GetCardTerminalsResponse', { 'xmlns:EVT': NS.EVT, 'xmlns:CT': NS.CT }, [
    statusElement(),
    el('CT:CardTerminals', {}, terminals.map((t) => terminalElement(k, t))),
  ]);
}

async function getResourceInformation(req: SoapRequest, k: KonnektorContext): Promise<XmlElement> {
  const parts = expectSequence(req.body, [
    { local: 'Context', ns: NS.CCTX },
    { local: 'CtId', ns: NS.CARDCMN, min: 0 },
    { local: 'SlotId', ns: NS.CARDCMN, min: 0 },
    { local: 'Iccsn', ns: NS.CARDCMN, min: 0 },
    { local: 'CardHandle', ns: NS.CONN, min: 0 },
  ]);
  const call = req.context as CallContext;
  const get = (n: string) => (parts.get(n)?.[0] ? leafText(parts.get(n)![0]) : undefined);
  const ctId = get('CtId');
  const slot = get('SlotId');
  const iccsn = get('Iccsn');
  const handle = get('CardHandle');
  await k.cards.settled();
  let card: CardInfo | undefined;
  if (handle !== undefined) card = k.cards.require(handle);
  else if (iccsn !== undefined) {
    card = k.cards.list().find((c) => c.iccsn === iccsn);
    if (!card) throw konnektorFault(4008, `no card with ICCSN ${iccsn} is inserted`);
  } else if (ctId !== undefined && slot !== undefined) {
    card = k.cards.list().find((c) => c.ctId === ctId && String(c.slotId) === slot);
    if (!card) throw konnektorFault(4008, `no card in ${ctId} slot ${slot}`);
  }
  const terminal = card?.ctId ?? ctId;
  if (terminal !== undefined) {
    if (!k.model.terminal(terminal)) throw konnektorFault(4000, `unknown CtId "${terminal}"`);
    k.model.checkTerminalAccess(call, terminal);
  }
  const now = k.clock().toISOString();
  const link = (online: boolean) => [el('CONN:ConnectionStatus', {}, online ? 'Online' : 'Offline'), el('CONN:Timestamp', {}, now)];
  return el('EVT:GetResourceInformationResponse', { 'xmlns:EVT': NS.EVT, 'xmlns:CONN': NS.CONN }, [
    statusElement(),
    ...(card ? [cardElement(card)] : []),
    ...(terminal !== undefined ? [terminalElement(k, terminal)] : []),
    el('CONN:Connector', {}, [
      el('CONN:VPNTIStatus', {}, link(true)),
      el('CONN:VPNSISStatus', {}, link(false)),
      el('CONN:OperatingState', {}, [
        el('CONN:ErrorState', {}, [
          el('CONN:ErrorCondition', {}, 'EC_Time_Sync_Not_Successful'),
          el('CONN:Severity', {}, 'Warning'),
          el('CONN:Type', {}, 'Operation'),
          el('CONN:Value', {}, 'false'),
          el('CONN:ValidFrom', {}, now),
        ]),
      ]),
    ]),
  ]);
}

export function register(router: SoapRouter): void {
  const op = (local: string, handler: (req: SoapRequest, k: KonnektorContext) => Promise<XmlElement>) =>
    router.registerOperation({ path: PATH, soapAction: `${ACTION}${local}`, requestElement: { ns: NS.EVT, local }, handler });
  op('GetCards', getCards);
  op('GetCardTerminals', getCardTerminals);
  op('GetResourceInformation', getResourceInformation);
}
