// Format-2 PIN blocks (ISO 9564-1 format 2), the encoding of secrets in
// VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER: one nibble 2, one
// nibble length, the digits, padded with F to 8 bytes.

export const PIN_BLOCK_LENGTH = 8;

/** Encode 4..12 digits as a format-2 PIN block. */
export function encodePinBlock(digits: string): Buffer {
  if (!/^[0-9]{4,12}$/.test(digits)) throw new RangeError('a format-2 PIN block holds 4..12 digits');
  const nibbles = `2${digits.length.toString(16)}${digits}`.padEnd(PIN_BLOCK_LENGTH * 2, 'f');
  return Buffer.from(nibbles, 'hex');
}

/** Decode a format-2 PIN block; undefined when the block is malformed. */
export function decodePinBlock(block: Buffer): string | undefined {
  if (block.length !== PIN_BLOCK_LENGTH) return undefined;
  const hex = block.toString('hex');
  if (hex[0] !== '2') return undefined;
  const len = parseInt(hex[1], 16);
  if (len < 4 || len > 12) return undefined;
  const digits = hex.slice(2, 2 + len);
  const pad = hex.slice(2 + len);
  if (!/^[0-9]+$/.test(digits) || !/^f*$/.test(pad)) return undefined;
  return digits;
}
