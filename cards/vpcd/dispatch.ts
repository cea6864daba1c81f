/**
 * The card side of one vpcd message: control codes drive the card's power state,
 * the ATR request is answered with the card's ATR, everything else is a command
 * APDU for the card. A misbehaving card never breaks the connection: errors
 * become the status word 6F00 (no precise diagnosis).
 */
import { MAX_FRAME_PAYLOAD, VpcdControl } from './framing';
import type { VirtualCard } from './types';

/** ISO 7816-4: "no precise diagnosis", what a card answers when it fails internally. */
export const SW_NO_PRECISE_DIAGNOSIS = Buffer.from([0x6f, 0x00]);

export type VpcdEvent =
  | { kind: 'power-off' }
  | { kind: 'power-on' }
  | { kind: 'reset' }
  | { kind: 'atr' }
  | { kind: 'apdu'; command: Buffer; response: Buffer }
  | { kind: 'unknown-control'; code: number }
  | { kind: 'card-error'; message: string };

/**
 * Handles one message from vpcd. Returns the reply payload, or undefined when the
 * message gets no reply (power off/on, reset, unknown control codes).
 */
export function handleVpcdMessage(card: VirtualCard, message: Buffer, onEvent: (e: VpcdEvent) => void = () => undefined): Buffer | undefined {
  if (message.length === 0) return undefined;
  if (message.length === 1) {
    const code = message[0];
    try {
      switch (code) {
        case VpcdControl.POWER_OFF:
          onEvent({ kind: 'power-off' });
          card.powerOff();
          return undefined;
        case VpcdControl.POWER_ON:
          onEvent({ kind: 'power-on' });
          card.powerOn();
          return undefined;
        case VpcdControl.RESET:
          onEvent({ kind: 'reset' });
          card.reset();
          return undefined;
        case VpcdControl.GET_ATR:
          onEvent({ kind: 'atr' });
          return Buffer.from(card.atr);
        default:
          onEvent({ kind: 'unknown-control', code });
          return undefined;
      }
    } catch (e) {
      onEvent({ kind: 'card-error', message: `control 0x${code.toString(16).padStart(2, '0')}: ${(e as Error)?.message ?? String(e)}` });
      // vpcd waits for an answer after 0x04 (an empty ATR reads as "card removed");
      // every other control code expects nothing.
      return code === VpcdControl.GET_ATR ? Buffer.alloc(0) : undefined;
    }
  }
  let response: Buffer;
  try {
    response = card.transmit(message);
  } catch (e) {
    onEvent({ kind: 'card-error', message: `APDU ${message.subarray(0, 4).toString('hex')}…: ${(e as Error)?.message ?? String(e)}` });
    response = SW_NO_PRECISE_DIAGNOSIS;
  }
  if (!Buffer.isBuffer(response) || response.length < 2 || response.length > MAX_FRAME_PAYLOAD) {
    const what = Buffer.isBuffer(response) ? `${response.length} bytes` : typeof response;
    onEvent({ kind: 'card-error', message: `APDU ${message.subarray(0, 4).toString('hex')}…: the card answered ${what}; expected 2..${MAX_FRAME_PAYLOAD}` });
    response = SW_NO_PRECISE_DIAGNOSIS;
  }
  onEvent({ kind: 'apdu', command: message, response });
  return response;
}
