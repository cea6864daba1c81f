// Shared fixtures for the card OS tests: a small object system built with the
// builder API and a transmit helper.

import type { KeyObject } from 'node:crypto';
import { decodeResponse } from '../../../simulators/lib/apdu';
import { df, ef, key, mf, mrpin, objectSystem, pin, publicKey, recordEf } from '../../../cards/os/builder';
import { CardOs } from '../../../cards/os/card';
import { encodePinBlock } from '../../../simulators/lib/pin-block';
import { bp256UncompressedPoint, generateBp256KeyPair } from '../../../simulators/lib/bp256';

export const AID_MF = 'D2760001448000';
export const AID_ESIGN = 'A000000167455349474E';
export const AID_QES = 'D27600006601';

export interface TestCard {
  card: CardOs;
  autKey: { privateKey: KeyObject; publicKey: KeyObject };
  qesKey: { privateKey: KeyObject; publicKey: KeyObject };
  roleKey: { privateKey: KeyObject; publicKey: KeyObject };
}

let keys: { aut: TestCard['autKey']; qes: TestCard['qesKey']; role: TestCard['roleKey']; root: TestCard['autKey'] } | undefined;

function testKeys() {
  keys ??= { aut: generateBp256KeyPair(), qes: generateBp256KeyPair(), role: generateBp256KeyPair(), root: generateBp256KeyPair() };
  return keys;
}

/**
 * MF (PIN.CH 01 with PUK, MRPIN.home 02 → 01, transport PIN 03, empty PIN 04, disabled PIN 05,
 *     EF.GDO 2F02/SFI 02, EF.Secret 2F03 readable with PIN 01, EF.DIR 2F00/SFI 1E,
 *     PrK.AUT_CVC 09 for INTERNAL AUTHENTICATE, PuK DEGXX870222)
 *   DF.ESIGN (PrK.CH.AUT.E256 04, usable with MRPIN.home)
 *   DF.QES   (PIN.QES 81 with SSEC limit 3, PrK.HP.QES.E256 06 usable with PIN.QES)
 */
export function buildTestCard(options: { ssecLimit?: number } = {}): TestCard {
  const k = testKeys();
  const os = objectSystem({
    name: 'unit-test card',
    atr: '3B8880010000000000000000',
    root: mf({
      aid: AID_MF,
      children: [
        ef({ name: 'EF.GDO', fid: 0x2f02, sfi: 0x02, data: '5A0A80276883110000152715' }),
        ef({ name: 'EF.Secret', fid: 0x2f03, sfi: 0x03, data: Buffer.alloc(300, 0xab), size: 400, read: { pin: 0x01 } }),
        recordEf({ name: 'EF.DIR', fid: 0x2f00, sfi: 0x1e, records: ['61094F07D2760001448000', '610C4F0AA000000167455349474E'] }),
        pin({ name: 'PIN.CH', id: 0x01, secret: '123456', puk: '12345678', pukUsage: 3 }),
        mrpin({ name: 'MRPIN.home', id: 0x02, passwordReference: 0x01 }),
        pin({ name: 'PIN.TRANSPORT', id: 0x03, secret: '54321', minLength: 5, puk: '12345678', transport: 'transport' }),
        pin({ name: 'PIN.EMPTY', id: 0x04, secret: '', puk: '12345678', transport: 'empty' }),
        pin({ name: 'PIN.DISABLED', id: 0x05, secret: '111111', enabled: false }),
        key({ name: 'PrK.AUT_CVC', id: 0x09, privateKey: k.role.privateKey, usage: ['elcRoleAuthentication', 'elcSessionkey4SM'] }),
        publicKey({ name: 'PuK.RCA', reference: '4445475858870222', key: k.root.publicKey }),
        df({
          name: 'DF.ESIGN',
          aid: AID_ESIGN,
          children: [
            ef({ name: 'EF.C.CH.AUT.E256', fid: 0xc504, sfi: 0x04, data: bp256UncompressedPoint(k.aut.publicKey), size: 0x76c }),
            key({ name: 'PrK.CH.AUT.E256', id: 0x04, privateKey: k.aut.privateKey, usage: 'signECDSA', use: { pin: 0x02 } }),
            key({ name: 'PrK.CH.ENC.E256', id: 0x05, privateKey: k.aut.privateKey, usage: 'elcSharedSecretCalculation' }),
            key({ name: 'PrK.NOT_GENERATED', id: 0x07, usage: 'signECDSA' }),
          ],
        }),
        df({
          name: 'DF.QES',
          aid: AID_QES,
          fid: 0xdf01,
          children: [
            pin({ name: 'PIN.QES', id: 0x01, secret: '654321', puk: '87654321', ssecLimit: options.ssecLimit ?? 3 }),
            key({ name: 'PrK.HP.QES.E256', id: 0x06, privateKey: k.qes.privateKey, usage: 'signECDSA', use: { pin: 0x81 } }),
          ],
        }),
      ],
    }),
  });
  return { card: new CardOs(os), autKey: k.aut, qesKey: k.qes, roleKey: k.role };
}

export interface Rsp {
  data: Buffer;
  sw: number;
  hex: string;
}

/** Send a hex APDU (spaces allowed); returns data, SW and the full response as upper-case hex. */
export function tx(card: CardOs, apduHex: string | Buffer): Rsp {
  const raw = Buffer.isBuffer(apduHex) ? apduHex : Buffer.from(apduHex.replace(/\s+/g, ''), 'hex');
  const out = card.transmit(raw);
  const { data, sw } = decodeResponse(out);
  return { data: Buffer.from(data), sw, hex: out.toString('hex').toUpperCase() };
}

export function pinBlock(digits: string): string {
  return encodePinBlock(digits).toString('hex');
}

export function hex(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0');
}
