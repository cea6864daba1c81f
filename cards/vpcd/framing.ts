/**
 * The vpcd wire format (vsmartcard's virtual PC/SC reader driver): every message in
 * either direction is a 2-byte big-endian length followed by that many bytes.
 *
 * vpcd → card: a 1-byte message is a control code (power off/on, reset, ATR request);
 * anything longer is a command APDU. card → vpcd: the ATR (answer to 0x04) or a
 * response APDU. Power off/on and reset get no answer.
 */

/** The largest payload a 2-byte length can describe. */
export const MAX_FRAME_PAYLOAD = 0xffff;

/** Control codes vpcd sends as 1-byte messages. */
export const VpcdControl = {
  POWER_OFF: 0x00,
  POWER_ON: 0x01,
  RESET: 0x02,
  GET_ATR: 0x04,
} as const;

export class FramingError extends Error {
  override name = 'FramingError';
}

/** Length prefix + payload. */
export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) {
    throw new FramingError(`vpcd frame payload too large: ${payload.length} bytes (at most ${MAX_FRAME_PAYLOAD})`);
  }
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame.writeUInt16BE(payload.length, 0);
  payload.copy(frame, 2);
  return frame;
}

/**
 * Reassembles frames from a TCP byte stream: chunks may split a frame anywhere
 * (even inside the length) or carry several frames at once.
 */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  /** @param maxPayload frames announcing more than this are a protocol error */
  constructor(private readonly maxPayload: number = MAX_FRAME_PAYLOAD) {
    if (!Number.isInteger(maxPayload) || maxPayload < 1 || maxPayload > MAX_FRAME_PAYLOAD) {
      throw new RangeError(`maxPayload must be 1..${MAX_FRAME_PAYLOAD}, got ${maxPayload}`);
    }
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffered.length;
  }

  /**
   * Adds received bytes; returns the frames completed by them, in order.
   * Throws FramingError when a frame announces more than `maxPayload` bytes:
   * the stream cannot be trusted after that and the connection must be closed.
   */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Buffer[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= 2) {
      const size = this.buffered.readUInt16BE(offset);
      if (size > this.maxPayload) {
        this.buffered = Buffer.alloc(0);
        throw new FramingError(`vpcd announced a ${size}-byte message (limit ${this.maxPayload})`);
      }
      if (this.buffered.length - offset - 2 < size) break;
      // Copy: the payload must not keep the (possibly large) receive buffer alive.
      frames.push(Buffer.from(this.buffered.subarray(offset + 2, offset + 2 + size)));
      offset += 2 + size;
    }
    this.buffered = offset === this.buffered.length ? Buffer.alloc(0) : Buffer.from(this.buffered.subarray(offset));
    return frames;
  }

  reset(): void {
    this.buffered = Buffer.alloc(0);
  }
}
