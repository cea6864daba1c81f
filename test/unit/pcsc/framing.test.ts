import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleVpcdMessage, type VpcdEvent } from '../../../cards/vpcd/dispatch';
import { encodeFrame, FrameDecoder, FramingError, MAX_FRAME_PAYLOAD, VpcdControl } from '../../../cards/vpcd/framing';
import { buildT1Atr, commandData, ROOT_APPLICATION_AID, STUB_ATR, StubCard } from '../../../cards/vpcd/stub-card';
import type { VirtualCard } from '../../../cards/vpcd/types';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('encodeFrame puts a 2-byte big-endian length before the payload', () => {
  assert.deepEqual(encodeFrame(hex('9000')), hex('0002 9000'));
  assert.deepEqual(encodeFrame(Buffer.alloc(0)), hex('0000'));
  const big = encodeFrame(Buffer.alloc(0x1234, 7));
  assert.equal(big.readUInt16BE(0), 0x1234);
  assert.equal(big.length, 0x1236);
  assert.equal(encodeFrame(Buffer.alloc(MAX_FRAME_PAYLOAD)).length, MAX_FRAME_PAYLOAD + 2);
  assert.throws(() => encodeFrame(Buffer.alloc(MAX_FRAME_PAYLOAD + 1)), FramingError);
});

test('FrameDecoder reassembles frames split anywhere, even inside the length', () => {
  const stream = Buffer.concat([encodeFrame(hex('04')), encodeFrame(hex('00A4040C07D2760001448000')), encodeFrame(Buffer.alloc(300, 0xab))]);
  for (const chunkSize of [1, 2, 3, 5, 64, stream.length]) {
    const d = new FrameDecoder();
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += chunkSize) frames.push(...d.push(stream.subarray(i, i + chunkSize)));
    assert.equal(frames.length, 3, `chunk size ${chunkSize}`);
    assert.deepEqual(frames[0], hex('04'));
    assert.deepEqual(frames[1], hex('00A4040C07D2760001448000'));
    assert.deepEqual(frames[2], Buffer.alloc(300, 0xab));
    assert.equal(d.pending, 0);
  }
});

test('FrameDecoder keeps an incomplete frame pending and copies payloads out of the receive buffer', () => {
  const d = new FrameDecoder();
  const chunk = Buffer.concat([encodeFrame(hex('01')), hex('0005 0102')]);
  const frames = d.push(chunk);
  assert.deepEqual(frames, [hex('01')]);
  assert.equal(d.pending, 4);
  chunk.fill(0xee); // the caller reuses its buffer
  assert.deepEqual(frames[0], hex('01'));
  assert.deepEqual(d.push(hex('030405')), [hex('0102030405')]);
  assert.equal(d.pending, 0);
  d.push(hex('00'));
  d.reset();
  assert.equal(d.pending, 0);
});

test('FrameDecoder refuses frames above its limit (the stream cannot be trusted after that)', () => {
  const d = new FrameDecoder(16);
  assert.deepEqual(d.push(encodeFrame(Buffer.alloc(16))), [Buffer.alloc(16)]);
  assert.throws(() => d.push(hex('0011')), /announced a 17-byte message \(limit 16\)/);
  assert.equal(d.pending, 0);
  assert.throws(() => new FrameDecoder(0), RangeError);
  assert.throws(() => new FrameDecoder(MAX_FRAME_PAYLOAD + 1), RangeError);
});

class RecordingCard implements VirtualCard {
  readonly atr = hex('3B8180018080');
  calls: string[] = [];
  powerOn() {
    this.calls.push('on');
  }
  powerOff() {
    this.calls.push('off');
  }
  reset() {
    this.calls.push('reset');
  }
  transmit(apdu: Buffer) {
    this.calls.push(`apdu ${apdu.toString('hex')}`);
    return hex('9000');
  }
}

test('control codes drive the card and get no reply; the ATR request gets the ATR', () => {
  const card = new RecordingCard();
  const events: VpcdEvent[] = [];
  const on = (e: VpcdEvent) => events.push(e);
  assert.equal(handleVpcdMessage(card, Buffer.from([VpcdControl.POWER_ON]), on), undefined);
  assert.equal(handleVpcdMessage(card, Buffer.from([VpcdControl.RESET]), on), undefined);
  assert.equal(handleVpcdMessage(card, Buffer.from([VpcdControl.POWER_OFF]), on), undefined);
  assert.deepEqual(handleVpcdMessage(card, Buffer.from([VpcdControl.GET_ATR]), on), card.atr);
  assert.equal(handleVpcdMessage(card, Buffer.from([0x03]), on), undefined);
  assert.equal(handleVpcdMessage(card, Buffer.alloc(0), on), undefined);
  assert.deepEqual(card.calls, ['on', 'reset', 'off']);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['power-on', 'reset', 'power-off', 'atr', 'unknown-control'],
  );
});

test('APDUs go to the card; a failing or misbehaving card answers 6F00', () => {
  const card = new RecordingCard();
  assert.deepEqual(handleVpcdMessage(card, hex('00A4040C')), hex('9000'));
  assert.deepEqual(card.calls, ['apdu 00a4040c']);
  const errors: string[] = [];
  const on = (e: VpcdEvent) => e.kind === 'card-error' && errors.push(e.message);
  const throwing: VirtualCard = { ...card, atr: card.atr, powerOn() {}, powerOff() {}, reset() {}, transmit: () => { throw new Error('boom'); } };
  assert.deepEqual(handleVpcdMessage(throwing, hex('00B00000'), on), hex('6F00'));
  const tooLong: VirtualCard = { ...throwing, transmit: () => Buffer.alloc(MAX_FRAME_PAYLOAD + 1) };
  assert.deepEqual(handleVpcdMessage(tooLong, hex('00B00000'), on), hex('6F00'));
  const tooShort: VirtualCard = { ...throwing, transmit: () => hex('90') };
  assert.deepEqual(handleVpcdMessage(tooShort, hex('00B00000'), on), hex('6F00'));
  assert.equal(errors.length, 3);
  assert.match(errors[0], /boom/);
  assert.match(errors[1], /65536 bytes/);
  // an ATR that cannot be produced reads as "no card" (empty ATR), not as a hang
  const noAtr = { ...throwing, get atr(): Buffer { throw new Error('no ATR'); } } as VirtualCard;
  assert.deepEqual(handleVpcdMessage(noAtr, Buffer.from([VpcdControl.GET_ATR])), Buffer.alloc(0));
});

test('the stub card: valid T=1 ATR, SELECT of the root application, ECHO short and extended, 6D00 else', () => {
  // TCK: XOR of T0..last byte is 0
  assert.equal(STUB_ATR.subarray(1).reduce((a, b) => a ^ b, 0), 0);
  assert.equal(STUB_ATR[0], 0x3b);
  assert.throws(() => buildT1Atr(Buffer.alloc(16)), RangeError);
  const card = new StubCard();
  const select = Buffer.concat([hex('00A4040C07'), ROOT_APPLICATION_AID]);
  assert.deepEqual(card.transmit(select), hex('9000'));
  assert.deepEqual(card.transmit(Buffer.concat([hex('00A4040007'), ROOT_APPLICATION_AID, hex('00')])), hex('9000'));
  assert.deepEqual(card.transmit(hex('00A4040C03A00000')), hex('6A82'));
  assert.deepEqual(card.transmit(hex('80EE000003AABBCC00')), hex('AABBCC9000'));
  const data = Buffer.alloc(4096, 0x5a);
  const ext = Buffer.concat([hex('80EE0000001000'), data, hex('0000')]);
  assert.deepEqual(card.transmit(ext), Buffer.concat([data, hex('9000')]));
  assert.deepEqual(card.transmit(hex('00B0000000')), hex('6D00'));
  assert.deepEqual(card.transmit(hex('00A4')), hex('6700'));
  assert.equal(commandData(hex('80EE000005AABB')), undefined, 'Lc larger than the data');
  assert.equal(commandData(hex('80EE0000000002AA')), undefined, 'extended Lc larger than the data');
});
