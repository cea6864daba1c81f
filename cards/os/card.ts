// The simulated card: power, reset and APDU transmission on an object system.
//
//   const card = new CardOs(objectSystem);
//   const atr = card.powerOn();
//   const rsp = card.transmit(Buffer.from('00A4040C07D2760001448000', 'hex'));  // …9000
//
// transmit() is synchronous and never throws: every malformed or unsupported
// command yields an ISO/IEC 7816-4 status word; an unexpected internal error
// yields 6F00. The card mutates its object system (retry counters, secrets):
// give each card its own copy (cloneObjectSystem).

import { type CommandApdu, encodeResponse, parseApdu, respond, type ResponseApdu, SW } from '../../simulators/lib/apdu';
import { CardContext, type CommandHandler } from './context';
import {
  getChallenge,
  getRandom,
  internalAuthenticate,
  listPublicKey,
  manageSecurityEnvironment,
  performSecurityOperation,
} from './commands/crypto';
import { readBinary, readRecord, select } from './commands/files';
import { changeReferenceData, getPinStatus, resetRetryCounter, verify } from './commands/pins';
import { INS } from './ins';
import type { ObjectSystem } from './model';
import { ObjectTree } from './tree';

/** Handlers by class (00 = interindustry, 80 = proprietary) and INS. */
const HANDLERS: Record<0x00 | 0x80, Partial<Record<number, CommandHandler>>> = {
  0x00: {
    [INS.SELECT]: select,
    [INS.READ_BINARY]: readBinary,
    [INS.READ_RECORD]: readRecord,
    [INS.VERIFY]: verify,
    [INS.CHANGE_REFERENCE_DATA]: changeReferenceData,
    [INS.RESET_RETRY_COUNTER]: resetRetryCounter,
    [INS.MANAGE_SECURITY_ENVIRONMENT]: manageSecurityEnvironment,
    [INS.PERFORM_SECURITY_OPERATION]: performSecurityOperation,
    [INS.INTERNAL_AUTHENTICATE]: internalAuthenticate,
    [INS.GET_CHALLENGE]: getChallenge,
  },
  0x80: {
    [INS.VERIFY]: getPinStatus,
    [INS.GET_CHALLENGE]: getRandom,
    [INS.LIST_PUBLIC_KEY]: listPublicKey,
  },
};

export interface CardOsOptions {
  /** Source of random bytes (GET CHALLENGE, GET RANDOM); default node:crypto randomBytes. */
  random?: (n: number) => Buffer;
}

export class CardOs {
  readonly objectSystem: ObjectSystem;
  private readonly ctx: CardContext;
  private powered = false;
  private warm = false;

  constructor(objectSystem: ObjectSystem, options: CardOsOptions = {}) {
    this.objectSystem = objectSystem;
    this.ctx = new CardContext(new ObjectTree(objectSystem), options.random);
  }

  /** The current answer to reset: the cold ATR after power-on, the warm ATR after a warm reset. */
  get atr(): Buffer {
    const { atr, warmAtr } = this.objectSystem;
    return Buffer.from(this.warm && warmAtr ? warmAtr : atr);
  }

  get isPowered(): boolean {
    return this.powered;
  }

  /** Cold reset: power on, MF selected, no security status. Returns the ATR. */
  powerOn(): Buffer {
    this.powered = true;
    this.warm = false;
    this.ctx.resetState();
    return this.atr;
  }

  powerOff(): void {
    this.powered = false;
    this.warm = false;
    this.ctx.resetState();
  }

  /** Warm reset: security status and selection cleared, MF selected. Returns the warm ATR. */
  reset(): Buffer {
    this.powered = true;
    this.warm = true;
    this.ctx.resetState();
    return this.atr;
  }

  /** Process one command APDU; returns response data ‖ SW1 SW2. Never throws. */
  transmit(apdu: Buffer): Buffer {
    let response: ResponseApdu;
    try {
      response = this.powered ? this.process(apdu) : respond(SW.UNKNOWN);
    } catch {
      response = respond(SW.UNKNOWN);
    }
    return encodeResponse(response);
  }

  private process(input: Buffer): ResponseApdu {
    const raw = Buffer.isBuffer(input) ? input : Buffer.from(input as Uint8Array);
    if (raw.length < 4) return respond(SW.WRONG_LENGTH);
    const cla = raw[0];
    const classCheck = checkClass(cla);
    if (classCheck !== undefined) return respond(classCheck);
    const handler = HANDLERS[(cla & 0x80) as 0x00 | 0x80][raw[1]];
    if (!handler) return respond(SW.INS_NOT_SUPPORTED);
    const parsed = parseApdu(raw);
    if (!parsed.ok) return respond(parsed.sw);
    return limitToNe(parsed.apdu, handler(this.ctx, parsed.apdu));
  }
}

/**
 * CLA coding (ISO/IEC 7816-4 §5.4.1): only the first interindustry (0x0X/0x1X)
 * and the matching proprietary values (0x8X/0x9X) are known; logical channels
 * other than the basic channel answer 6881, secure messaging 6882, command
 * chaining 6884.
 */
function checkClass(cla: number): number | undefined {
  const high = cla & 0xe0;
  if (cla === 0xff) return SW.CLA_NOT_SUPPORTED;
  if (high === 0x40 || high === 0x60) return SW.CHANNEL_NOT_SUPPORTED; // further interindustry: channels 4..19
  if (high !== 0x00 && high !== 0x80) return SW.CLA_NOT_SUPPORTED;
  if ((cla & 0x03) !== 0) return SW.CHANNEL_NOT_SUPPORTED;
  if ((cla & 0x0c) !== 0) return SW.SM_NOT_SUPPORTED;
  if ((cla & 0x10) !== 0) return SW.CHAINING_NOT_SUPPORTED;
  return undefined;
}

/** Response data is cut to Ne; without Le no data is returned. */
function limitToNe(apdu: CommandApdu, r: ResponseApdu): ResponseApdu {
  if (r.data.length === 0) return r;
  if (apdu.ne === undefined) return { data: Buffer.alloc(0), sw: r.sw };
  if (r.data.length > apdu.ne) return { data: r.data.subarray(0, apdu.ne), sw: r.sw };
  return r;
}
