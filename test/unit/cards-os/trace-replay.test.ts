// Replays the plain (non-secure-messaging) exchanges of gematik APDU traces
// against the imported eGK card image.
//
// The traces come from a real eGK G2.1 (COS "TSYSITCOSEC20", contactless, PACE
// with CAN 123123) whose personalisation differs from the card-image template
// in three places; these are compared structurally, everything else
// byte-identically:
//   - SELECT MF with FCP: the card adds security attributes (A1, expanded
//     access-rule format, and different rules than the image's MF) and the
//     answer is cut to 256 bytes; compared: status word and all FCP objects
//     before A1 (82, 83, 8A, 84).
//   - EF.Version2: C2 (product identification of the COS) is written by the
//     card manufacturer ("TSYSITCOSEC20" vs. the template's "EGK_G2.1"); all
//     other data objects and the length are compared.
//   - LIST PUBLIC KEY: the card's persistent public-key cache holds 6 keys
//     imported by earlier PSO VERIFY CERTIFICATE runs; the image's 2 keys must
//     appear byte-identically and in the same order.
// Skipped: secure messaging (CLA 0C/8C), GENERAL AUTHENTICATE (PACE and
// session-key negotiation with random ephemeral keys), and the CV-certificate
// chain (MSE SET 81B6 / PSO VERIFY CERTIFICATE) whose root key DEGXX850218 is
// only in the trace card's cache and whose PSO is not implemented yet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { loadCardImage } from '../../../cards/image/import';
import { CardOs } from '../../../cards/os/card';
import { parseTlvList } from '../../../cards/os/tlv';
import { sharedPath } from '../../../simulators/lib/shared-data';

const TRACE_DIR = sharedPath('reference', 'apdu-traces');
const EGK = sharedPath('reference', 'card-images', 'IMG_eGK_G21_TU_root6.xml');

interface Exchange {
  tx: string;
  rx: string;
}

type Outcome = { kind: 'identical' } | { kind: 'structural'; what: string } | { kind: 'skipped'; why: string };

function skipReason(tx: Buffer): string | undefined {
  const [cla, ins, p1, p2] = tx;
  if ((cla & 0x0c) !== 0) return 'secure messaging';
  if (ins === 0x86) return 'GENERAL AUTHENTICATE (PACE / key agreement, random)';
  if (ins === 0x22 && p1 === 0x81 && p2 === 0xb6) return 'CV-certificate chain (key only in the card cache)';
  if (ins === 0x2a && p1 === 0x00 && p2 === 0xbe) return 'CV-certificate chain (PSO VERIFY CERTIFICATE)';
  return undefined;
}

/** FCP objects before the security attributes (A1). */
function fcpBeforeSecurityAttributes(fcp: Buffer): Buffer {
  assert.equal(fcp[0], 0x62, 'FCP template');
  let i = fcp[1] === 0x82 ? 4 : fcp[1] === 0x81 ? 3 : 2;
  const start = i;
  while (i < fcp.length && fcp[i] !== 0xa1) i += 2 + fcp[i + 1];
  return fcp.subarray(start, i);
}

function compareStructurally(tx: string, ours: Buffer, theirs: Buffer): string | undefined {
  const sw = (b: Buffer) => b.subarray(b.length - 2).toString('hex');
  const data = (b: Buffer) => b.subarray(0, b.length - 2);
  if (tx === '00A4040400') {
    assert.equal(sw(ours), sw(theirs));
    assert.deepEqual(fcpBeforeSecurityAttributes(data(ours)), fcpBeforeSecurityAttributes(data(theirs)));
    return 'SELECT MF: FCP without A1';
  }
  if (tx === '00B09100000000') {
    assert.equal(sw(ours), sw(theirs));
    assert.equal(data(ours).length, data(theirs).length);
    const a = parseTlvList(data(ours))!;
    const b = parseTlvList(data(theirs))!;
    assert.equal(a.length, 1);
    assert.equal(a[0].tag, b[0].tag);
    const inner = (x: typeof a) => parseTlvList(x[0].value)!.filter((t) => t.tag !== 0xc2);
    assert.deepEqual(inner(a), inner(b));
    return 'EF.Version2: all but C2';
  }
  if (tx === '80CA0100000000') {
    assert.equal(sw(ours), sw(theirs));
    const a = parseTlvList(data(ours))!.map((t) => t.value.toString('hex'));
    const b = parseTlvList(data(theirs))!.map((t) => t.value.toString('hex'));
    assert.ok(a.length > 0);
    const positions = a.map((e) => b.indexOf(e));
    assert.ok(positions.every((p) => p >= 0), 'every key of the image is listed by the card');
    assert.deepEqual(positions, [...positions].sort((x, y) => x - y), 'same order');
    return 'LIST PUBLIC KEY: image keys ⊂ card keys';
  }
  return undefined;
}

function replay(file: string): Array<{ tx: string; outcome: Outcome }> {
  const lines = readFileSync(`${TRACE_DIR}/${file}`, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const exchanges = lines.map((l) => JSON.parse(l) as { type: string } & Exchange).filter((e) => e.type === 'exchange');
  // the traces were taken contactless (PACE with the CAN): use the CL access rules
  const card = new CardOs(loadCardImage(EGK, { interface: 'contactless' }).objectSystem);
  card.powerOn();
  return exchanges.map(({ tx, rx }) => {
    const apdu = Buffer.from(tx, 'hex');
    const why = skipReason(apdu);
    if (why) return { tx, outcome: { kind: 'skipped', why } as Outcome };
    const ours = card.transmit(apdu);
    const theirs = Buffer.from(rx, 'hex');
    if (ours.equals(theirs)) return { tx, outcome: { kind: 'identical' } as Outcome };
    const what = compareStructurally(tx.toUpperCase(), ours, theirs);
    assert.ok(what, `${file}: ${tx} answered ${ours.toString('hex').toUpperCase()}, trace ${rx}`);
    return { tx, outcome: { kind: 'structural', what } as Outcome };
  });
}

/** Expected counts per trace: [identical, structural, skipped]. */
const EXPECTED: Record<string, [number, number, number]> = {
  'change-pin-with-puk.jsonl': [3, 2, 6],
  'establish-secure-channel.jsonl': [3, 2, 4],
  'get-random.jsonl': [3, 2, 6],
  'read-certs.jsonl': [3, 2, 12],
  'read-vsd.jsonl': [3, 2, 9],
  'trusted-channel.jsonl': [2, 1, 8],
  'unlock-egk-with-puk.jsonl': [3, 2, 6],
  'verify-pin.jsonl': [3, 2, 7],
};

test('APDU traces: plain exchanges replayed against the eGK image', (t) => {
  const files = readdirSync(TRACE_DIR).filter((f) => f.endsWith('.jsonl')).sort();
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
  for (const file of files) {
    const results = replay(file);
    const count = (k: Outcome['kind']) => results.filter((r) => r.outcome.kind === k).length;
    const skips = new Map<string, number>();
    for (const r of results) if (r.outcome.kind === 'skipped') skips.set(r.outcome.why, (skips.get(r.outcome.why) ?? 0) + 1);
    t.diagnostic(
      `${file}: ${count('identical')} identical, ${count('structural')} structural, ${count('skipped')} skipped (${[...skips]
        .map(([w, n]) => `${n}× ${w}`)
        .join('; ')})`,
    );
    assert.deepEqual([count('identical'), count('structural'), count('skipped')], EXPECTED[file], file);
  }
});
