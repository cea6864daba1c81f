// Password commands: VERIFY, GET PIN STATUS, CHANGE REFERENCE DATA,
// RESET RETRY COUNTER (gemSpec_COS 14.6).

import { type CommandApdu, type ResponseApdu, respond, SW, swRetries } from '../../../simulators/lib/apdu';
import type { CardContext } from '../context';
import type { Password } from '../model';
import { decodePinBlock, PIN_BLOCK_LENGTH } from '../../../simulators/lib/pin-block';
import type { AnyPassword } from '../tree';

interface Resolved {
  addressed: AnyPassword;
  holder: Password;
}

/** P2 = password reference: b8 = DF-specific, b7b6 = 00, b5..b1 = identifier 1..31. */
function resolve(ctx: CardContext, apdu: CommandApdu): Resolved | number {
  const ref = apdu.p2;
  if ((ref & 0x60) !== 0 || (ref & 0x1f) === 0) return SW.WRONG_P1P2;
  const addressed = ctx.tree.password(ctx.currentDf, ref);
  if (!addressed) return SW.KEY_NOT_FOUND;
  const holder = ctx.tree.secretHolder(addressed);
  if (!holder) return SW.KEY_NOT_FOUND;
  if (!ctx.security.check(addressed, apdu.cla, apdu.ins, apdu.p1, apdu.p2)) return SW.SECURITY_STATUS_NOT_SATISFIED;
  return { addressed, holder };
}

function timingSafeEqualStrings(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** Check a presented secret against the holder; counts a wrong one. Returns the status word for a wrong secret, or undefined when right. */
function presentSecret(ctx: CardContext, r: Resolved, block: Buffer): number | undefined {
  const digits = decodePinBlock(block);
  if (digits !== undefined && timingSafeEqualStrings(digits, r.holder.secret)) {
    r.holder.retryCounter = r.holder.maxRetries;
    return undefined;
  }
  r.holder.retryCounter = Math.max(0, r.holder.retryCounter - 1);
  ctx.security.unsetVerified(r.addressed);
  return swRetries(r.holder.retryCounter);
}

function newSecretStatus(holder: Password, block: Buffer): { digits: string } | number {
  const digits = decodePinBlock(block);
  if (digits === undefined) return SW.WRONG_DATA;
  if (digits.length < holder.minLength || digits.length > holder.maxLength) return SW.CONDITIONS_NOT_SATISFIED;
  return { digits };
}

/**
 * VERIFY (00 20 00 P2 [data]). With a format-2 PIN block: 9000, 63Cx (wrong,
 * x tries left), 6983 (blocked), 6985 (transport or empty PIN). Without data
 * (ISO/IEC 7816-4 status query): 9000 when verified, else 63Cx.
 */
export function verify(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.isoCase !== 1 && apdu.isoCase !== 3) return respond(SW.WRONG_LENGTH);
  if (apdu.p1 !== 0x00) return respond(SW.WRONG_P1P2);
  const r = resolve(ctx, apdu);
  if (typeof r === 'number') return respond(r);
  if (apdu.isoCase === 1) {
    if (ctx.security.isVerified(r.addressed)) return respond(SW.OK);
    return respond(r.holder.retryCounter === 0 ? SW.PASSWORD_BLOCKED : swRetries(r.holder.retryCounter));
  }
  if (r.holder.retryCounter === 0) return respond(SW.PASSWORD_BLOCKED);
  if (r.holder.transportStatus !== 'regular') return respond(SW.CONDITIONS_NOT_SATISFIED);
  if (apdu.data.length !== PIN_BLOCK_LENGTH) {
    // not a format-2 PIN block: counted as a wrong secret
    return respond(presentSecret(ctx, r, Buffer.alloc(0)) as number);
  }
  const wrong = presentSecret(ctx, r, apdu.data);
  if (wrong !== undefined) return respond(wrong);
  ctx.security.setVerified(r.addressed);
  return respond(SW.OK);
}

/**
 * GET PIN STATUS (80 20 00 P2): 62C1 transport PIN, 62C7 empty PIN (Leer-PIN),
 * 62D0 password disabled, 9000 verified, 63Cx not verified with x tries left
 * (63C0 = blocked).
 */
export function getPinStatus(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.isoCase !== 1) return respond(SW.WRONG_LENGTH);
  if (apdu.p1 !== 0x00) return respond(SW.WRONG_P1P2);
  const r = resolve(ctx, apdu);
  if (typeof r === 'number') return respond(r);
  if (r.holder.transportStatus === 'transport') return respond(SW.TRANSPORT_PIN);
  if (r.holder.transportStatus === 'empty') return respond(SW.EMPTY_PIN);
  if (!r.addressed.enabled) return respond(SW.PASSWORD_DISABLED);
  if (ctx.security.isVerified(r.addressed)) return respond(SW.OK);
  return respond(swRetries(r.holder.retryCounter));
}

/**
 * CHANGE REFERENCE DATA and RESET RETRY COUNTER share their shape: case 3, P1 00 with
 * two PIN blocks (old/PUK ‖ new) or P1 01 with one. Returns the status word of a violation.
 */
function checkTwoPinBlockCommand(apdu: CommandApdu): number | undefined {
  if (apdu.isoCase !== 3) return SW.WRONG_LENGTH;
  if (apdu.p1 !== 0x00 && apdu.p1 !== 0x01) return SW.WRONG_P1P2;
  const expected = apdu.p1 === 0x00 ? 2 * PIN_BLOCK_LENGTH : PIN_BLOCK_LENGTH;
  if (apdu.data.length !== expected) return SW.WRONG_LENGTH;
  return undefined;
}

/**
 * CHANGE REFERENCE DATA (00 24 P1 P2 data).
 * P1 = 00: old ‖ new PIN block (also ends a transport PIN); P1 = 01: new PIN
 * block only, allowed only for an empty PIN (Leer-PIN).
 */
export function changeReferenceData(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  const shapeError = checkTwoPinBlockCommand(apdu);
  if (shapeError !== undefined) return respond(shapeError);
  const r = resolve(ctx, apdu);
  if (typeof r === 'number') return respond(r);
  const { holder } = r;
  if (apdu.p1 === 0x01) {
    if (holder.transportStatus !== 'empty') return respond(SW.CONDITIONS_NOT_SATISFIED);
    const next = newSecretStatus(holder, apdu.data);
    if (typeof next === 'number') return respond(next);
    holder.secret = next.digits;
    holder.transportStatus = 'regular';
    holder.retryCounter = holder.maxRetries;
    return respond(SW.OK);
  }
  if (holder.transportStatus === 'empty') return respond(SW.CONDITIONS_NOT_SATISFIED);
  if (holder.retryCounter === 0) return respond(SW.PASSWORD_BLOCKED);
  const next = newSecretStatus(holder, apdu.data.subarray(PIN_BLOCK_LENGTH));
  if (typeof next === 'number') return respond(next);
  const wrong = presentSecret(ctx, r, apdu.data.subarray(0, PIN_BLOCK_LENGTH));
  if (wrong !== undefined) return respond(wrong);
  holder.secret = next.digits;
  holder.transportStatus = 'regular';
  ctx.security.setVerified(r.addressed);
  return respond(SW.OK);
}

/**
 * RESET RETRY COUNTER (00 2C P1 P2 data).
 * P1 = 00: PUK ‖ new PIN block; P1 = 01: PUK only. Every use of the PUK
 * counts against pukUsage; a wrong PUK answers 63Cx (x uses left), no uses
 * left 6983.
 */
export function resetRetryCounter(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  const shapeError = checkTwoPinBlockCommand(apdu);
  if (shapeError !== undefined) return respond(shapeError);
  const r = resolve(ctx, apdu);
  if (typeof r === 'number') return respond(r);
  const { holder } = r;
  if (holder.puk === undefined) return respond(SW.CONDITIONS_NOT_SATISFIED);
  if (holder.pukUsage <= 0) return respond(SW.PASSWORD_BLOCKED);
  let next: { digits: string } | undefined;
  if (apdu.p1 === 0x00) {
    const n = newSecretStatus(holder, apdu.data.subarray(PIN_BLOCK_LENGTH));
    if (typeof n === 'number') return respond(n);
    next = n;
  }
  holder.pukUsage -= 1;
  const puk = decodePinBlock(apdu.data.subarray(0, PIN_BLOCK_LENGTH));
  if (puk === undefined || !timingSafeEqualStrings(puk, holder.puk)) return respond(swRetries(holder.pukUsage));
  holder.retryCounter = holder.maxRetries;
  if (next) {
    holder.secret = next.digits;
    holder.transportStatus = 'regular';
  }
  return respond(SW.OK);
}
