/**
 * Property-style robustness test: mutated real Konnektor signatures either
 * parse/verify or fail with a typed CmsError (never a raw TypeError, never a
 * hang, never the INTERNAL_ERROR safety net).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CmsError, TiCryptoError } from '../../../simulators/lib/crypto-errors';
import { MAX_CMS_SIZE, parseSignedData, verifySignedData } from '../../../simulators/lib/cms';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { prng } from '../../support/prng';

const SAMPLES_DIR = sharedPath('reference', 'qes-samples');
const SAMPLES = fs.readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.p7')).sort();
const SEED = Number(process.env.CMS_FUZZ_SEED ?? 0x5eed);


type Outcome = 'verified' | `error:${string}`;

/** Parse and verify; a typed CmsError is an acceptable outcome, anything else fails the test. */
function outcome(input: Buffer, label: string): Outcome {
  try {
    parseSignedData(input);
    verifySignedData(input);
    return 'verified';
  } catch (e) {
    if (!(e instanceof CmsError)) {
      assert.fail(`${label}: untyped ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (seed ${SEED})`);
    }
    assert.ok(e instanceof TiCryptoError);
    assert.notEqual(e.code, 'INTERNAL_ERROR', `${label}: ${e.message} (seed ${SEED})`);
    return `error:${e.code}`;
  }
}

test('truncated real samples fail with typed errors', () => {
  const rnd = prng(SEED);
  const codes = new Map<string, number>();
  for (const name of SAMPLES) {
    const der = fs.readFileSync(path.join(SAMPLES_DIR, name));
    const offsets = new Set([0, 1, 2, 3, 10, 50, der.length - 2, der.length - 1]);
    while (offsets.size < 60) offsets.add(Math.floor(rnd() * der.length));
    for (const at of offsets) {
      const o = outcome(der.subarray(0, at), `${name} truncated at ${at}`);
      assert.notEqual(o, 'verified', `${name} truncated at ${at} must not verify`);
      codes.set(o, (codes.get(o) ?? 0) + 1);
    }
  }
  assert.ok(codes.has('error:TRUNCATED_DER'), `expected TRUNCATED_DER among ${[...codes.keys()].join(', ')}`);
});

test('byte flips in real samples either verify (unsigned parts) or fail with typed errors', () => {
  const rnd = prng(SEED + 1);
  const codes = new Map<string, number>();
  for (const name of SAMPLES) {
    const der = fs.readFileSync(path.join(SAMPLES_DIR, name));
    for (let round = 0; round < 60; round++) {
      const m = Buffer.from(der);
      const flips = 1 + Math.floor(rnd() * 3);
      const where: number[] = [];
      for (let k = 0; k < flips; k++) {
        const at = Math.floor(rnd() * m.length);
        m[at] ^= 1 + Math.floor(rnd() * 255);
        where.push(at);
      }
      const o = outcome(m, `${name} flipped at ${where.join(',')}`);
      codes.set(o, (codes.get(o) ?? 0) + 1);
    }
  }
  // The mutations must actually exercise the verifier, not just the parser.
  assert.ok(codes.has('error:DIGEST_MISMATCH') || codes.has('error:BAD_SIGNATURE'), [...codes.keys()].join(', '));
});

test('random bytes, empty, oversized and structurally odd inputs fail with typed errors', () => {
  const rnd = prng(SEED + 2);
  for (let i = 0; i < 300; i++) {
    const len = Math.floor(rnd() * 400);
    const b = Buffer.alloc(len);
    for (let k = 0; k < len; k++) b[k] = Math.floor(rnd() * 256);
    if (len > 0 && i % 2 === 0) b[0] = 0x30; // get past the DER/base64 sniffing
    assert.notEqual(outcome(b, `random #${i}`), 'verified');
  }
  assert.equal(outcome(Buffer.alloc(0), 'empty'), 'error:EMPTY_INPUT');
  const huge = Buffer.alloc(MAX_CMS_SIZE + 1);
  huge[0] = 0x30;
  const t0 = Date.now();
  assert.equal(outcome(huge, 'oversized'), 'error:TOO_LARGE');
  assert.ok(Date.now() - t0 < 1000, 'oversized input is refused without parsing');
  // Deep nesting of indefinite-length SEQUENCEs: refused by the depth limit, no stack overflow.
  const deep = Buffer.concat([Buffer.from('3080'.repeat(20000), 'hex'), Buffer.from('0000'.repeat(20000), 'hex')]);
  assert.equal(outcome(deep, 'deep'), 'error:TOO_DEEP');
  // A huge declared length in a tiny buffer.
  assert.equal(outcome(Buffer.from('3084ffffffff06092a864886f70d010702', 'hex'), 'long length'), 'error:TRUNCATED_DER');
  // Many PEM headers without END lines: linear scan, no backtracking blow-up.
  const t1 = Date.now();
  assert.equal(outcome(Buffer.from('-----BEGIN CMS-----\n'.repeat(200_000)), 'pem flood'), 'error:NOT_CMS');
  assert.ok(Date.now() - t1 < 2000, 'PEM flood handled quickly');
  // Wrong ContentInfo type (id-data instead of signedData).
  assert.equal(outcome(Buffer.from('300f06092a864886f70d010701a0020400', 'hex'), 'id-data'), 'error:UNEXPECTED_OID');
});
