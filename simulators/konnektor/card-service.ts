/**
 * CardService 8.1 (CardService_v8_1_2.wsdl, at /ws/CardService) and 8.2 (CardService_v8_2_1.wsdl,
 * at /ws/CardService/v8.2): VerifyPin, GetPinStatus, ChangePin, UnblockPin.
 *
 * The PIN is "typed at the card terminal" by the simulated PIN pad (card-access.ts): a queued entry
 * (POST /__admin/pinpad) or the persona's PIN. PIN outcomes are answers, not faults: a wrong PIN
 * is PinResult REJECTED with LeftTries. PIN entry needs a card terminal that is local at the
 * caller's workplace (4016); PIN status needs only access (4012/4015).
 */
import { konnektorFault } from '../lib/soap';
import { el, type XmlElement } from '../lib/xml';
import type { PinOutcome } from './card-access';
import type { CallContext, KonnektorContext } from './context';
import { expectSequence, leafText, NS, statusElement, xsBoolean, type SoapRequest, type SoapRouter } from './soap-router';

interface Version {
  path: string;
  ns: string;
  action: string;
}

const VERSIONS: Version[] = [
  { path: '/ws/CardService', ns: NS.CARD, action: 'http://ws.gematik.de/conn/CardService/v8.1#' },
  { path: '/ws/CardService/v8.2', ns: NS.CARD82, action: 'http://ws.gematik.de/conn/CardService/v8.2#' },
];

function pinRequest(req: SoapRequest, k: KonnektorContext, extra: Array<{ local: string; ns: string; min?: number }> = [], opts: { local?: boolean } = {}) {
  const parts = expectSequence(req.body, [
    { local: 'Context', ns: NS.CCTX },
    { local: 'CardHandle', ns: NS.CONN },
    { local: 'PinTyp', ns: NS.CARDCMN },
    ...extra,
  ]);
  const handle = leafText(parts.get('CardHandle')![0]);
  const pinTyp = leafText(parts.get('PinTyp')![0]);
  if (!handle) throw konnektorFault(4000, 'CardHandle is empty');
  if (!pinTyp || pinTyp.length > 64) throw konnektorFault(4000, 'PinTyp must have 1..64 characters');
  const card = k.cards.require(handle);
  k.model.checkTerminalAccess(req.context as CallContext, card.ctId, opts);
  return { parts, handle, pinTyp, card };
}

function pinResponse(local: string, ns: string, o: PinOutcome): XmlElement {
  return el(`CARD:${local}`, { 'xmlns:CARD': ns, 'xmlns:CARDCMN': NS.CARDCMN }, [
    statusElement(),
    el('CARDCMN:PinResult', {}, o.result),
    ...(o.leftTries !== undefined ? [el('CARDCMN:LeftTries', {}, String(o.leftTries))] : []),
  ]);
}

export function register(router: SoapRouter): void {
  for (const v of VERSIONS) {
    const op = (local: string, handler: (req: SoapRequest, k: KonnektorContext) => Promise<XmlElement>) =>
      router.registerOperation({ path: v.path, soapAction: `${v.action}${local}`, requestElement: { ns: v.ns, local }, handler });

    op('VerifyPin', async (req, k) => {
      const { handle, pinTyp } = pinRequest(req, k, [], { local: true });
      return pinResponse('VerifyPinResponse', v.ns, await k.cards.verifyPin(handle, pinTyp));
    });

    op('GetPinStatus', async (req, k) => {
      const { handle, pinTyp } = pinRequest(req, k);
      const s = await k.cards.pinStatus(handle, pinTyp);
      // DISABLED exists from CardService 8.1.3 on (and in 8.2); older schemas have no value for it.
      return el(`CARD:GetPinStatusResponse`, { 'xmlns:CARD': v.ns }, [
        statusElement(),
        el('CARD:PinStatus', {}, s.status),
        ...(s.leftTries !== undefined ? [el('CARD:LeftTries', {}, String(s.leftTries))] : []),
      ]);
    });

    op('ChangePin', async (req, k) => {
      const { handle, pinTyp } = pinRequest(req, k, [], { local: true });
      return pinResponse('ChangePinResponse', v.ns, await k.cards.changePin(handle, pinTyp));
    });

    op('UnblockPin', async (req, k) => {
      const { parts, handle, pinTyp } = pinRequest(req, k, [{ local: 'SetNewPin', ns: v.ns, min: 0 }], { local: true });
      const setNew = parts.get('SetNewPin')?.[0];
      const setNewPin = setNew ? xsBoolean(leafText(setNew), 'SetNewPin') : true;
      return pinResponse('UnblockPinResponse', v.ns, await k.cards.unblockPin(handle, pinTyp, { setNewPin }));
    });
  }
}
