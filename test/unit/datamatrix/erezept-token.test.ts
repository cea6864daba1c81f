import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertAccessCode,
  buildDataMatrixPayload,
  buildPrescriptionId,
  ERezeptTokenError,
  flowTypeOf,
  formatToken,
  isValidAccessCode,
  isValidPrescriptionId,
  MAX_PAYLOAD_LENGTH,
  parseDataMatrixPayload,
  parseToken,
  prescriptionIdCheckDigits,
  prescriptionIdProblem,
  type ERezeptToken,
} from '../../../simulators/lib/erezept-token';
import { realDumpCodes } from './helpers';

const isTokenError = (code: string) => (e: unknown) => e instanceof ERezeptTokenError && e.code === code;

const AC1 = '5cd39e786faacdabecc121b66088b3dd54d3bf0f2b815bc6a7d65388aa006df4';
const AC2 = '0936cfa582b447144b71ac89eb7bb83a77c67c99d4054f91ee3703acf5d6a629';
const AC3 = 'd3e6092ae3af14b5225e2ddbe5a4f59b3939a907d6fdd5ce6a760ca71f45d8e5';
const T1: ERezeptToken = { prescriptionId: '160.000.239.761.370.47', accessCode: AC1 };
const T2: ERezeptToken = { prescriptionId: '200.000.002.425.306.26', accessCode: AC2 };
const T3: ERezeptToken = { prescriptionId: '209.000.000.120.122.68', accessCode: AC3 };

test('check digits: every PrescriptionID in the gematik dumps passes ISO 7064 MOD 97-10', () => {
  const ids = realDumpCodes().map((c) => c.prescriptionId);
  assert.ok(ids.length > 0, 'no *_dmc_*.png found in the ru-dumps');
  for (const id of ids) assert.equal(prescriptionIdProblem(id), undefined, id);
});

test('check digits: known values and buildPrescriptionId reproduce production IDs', () => {
  assert.equal(prescriptionIdCheckDigits('160000239761370'), '47');
  assert.equal(prescriptionIdCheckDigits('169000011663668'), '65');
  assert.equal(prescriptionIdCheckDigits('200000002425313'), '05'); // leading zero kept
  assert.equal(buildPrescriptionId(160, 239_761_370), '160.000.239.761.370.47');
  assert.equal(buildPrescriptionId('209', 120_122n), '209.000.000.120.122.68');
  assert.equal(buildPrescriptionId(160, 999_999_999_999n).slice(0, 19), '160.999.999.999.999');
  assert.equal(flowTypeOf('169.000.011.663.668.65'), '169');
  assert.throws(() => buildPrescriptionId(160, -1), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => buildPrescriptionId(160, 1_000_000_000_000n), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => buildPrescriptionId(1600, 1), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => buildPrescriptionId(160, 1.5), isTokenError('INVALID_PRESCRIPTION_ID'));
});

test('check digits: every single-digit change of a valid ID is refused', () => {
  const id = '160.000.239.761.370.47';
  for (let i = 0; i < id.length; i++) {
    if (id[i] === '.') continue;
    for (let d = 0; d <= 9; d++) {
      if (String(d) === id[i]) continue;
      const changed = id.slice(0, i) + d + id.slice(i + 1);
      assert.equal(isValidPrescriptionId(changed), false, changed);
    }
  }
});

test('PrescriptionID: malformed values are refused with a reason', () => {
  for (const bad of [
    '',
    '160.000.239.761.370',
    '160000239761370.47',
    '160.000.239.761.370.4',
    '160.000.239.761.370.470',
    '160.000.239.761.37a.47',
    ' 160.000.239.761.370.47',
    '160.000.239.761.370.47\n',
    '160-000-239-761-370-47',
    '１60.000.239.761.370.47',
    42,
    null,
    undefined,
  ]) {
    assert.equal(isValidPrescriptionId(bad), false, String(bad));
    assert.match(prescriptionIdProblem(bad) ?? '', /PrescriptionID/);
  }
  assert.match(prescriptionIdProblem('160.000.239.761.370.48') ?? '', /check digits 48, ISO 7064 MOD 97-10 gives 47/);
});

test('AccessCode: exactly 64 lower-case hex digits', () => {
  assert.equal(isValidAccessCode(AC1), true);
  for (const bad of [AC1.slice(1), `${AC1}0`, AC1.toUpperCase(), `${AC1.slice(0, 63)}g`, '', 7, undefined]) {
    assert.equal(isValidAccessCode(bad), false, String(bad));
    assert.throws(() => assertAccessCode(bad), isTokenError('INVALID_ACCESS_CODE'));
  }
});

test('token: format and strict parse round trip', () => {
  const text = formatToken(T1);
  assert.equal(text, `Task/160.000.239.761.370.47/$accept?ac=${AC1}`);
  assert.deepEqual(parseToken(text), T1);
});

test('token: anything but the exact form is refused', () => {
  const cases: Array<[unknown, string]> = [
    [`/Task/${T1.prescriptionId}/$accept?ac=${AC1}`, 'INVALID_TOKEN'],
    [`Task/${T1.prescriptionId}/$reject?ac=${AC1}`, 'INVALID_TOKEN'],
    [`Task/${T1.prescriptionId}/$accept?secret=${AC1}`, 'INVALID_TOKEN'],
    [`https://erp.zentral.erp.splitdns.ti-dienste.de/Task/${T1.prescriptionId}/$accept?ac=${AC1}`, 'INVALID_TOKEN'],
    [`Task/${T1.prescriptionId}/$accept?ac=${AC1}&x=1`, 'INVALID_ACCESS_CODE'],
    [`Task/${T1.prescriptionId}/$accept?ac=${AC1} `, 'INVALID_ACCESS_CODE'],
    [`Task/160.000.239.761.370.48/$accept?ac=${AC1}`, 'INVALID_PRESCRIPTION_ID'],
    [`Task/4711/$accept?ac=${AC1}`, 'INVALID_PRESCRIPTION_ID'],
    [`Task/${T1.prescriptionId}/$accept?ac=${AC1.toUpperCase()}`, 'INVALID_ACCESS_CODE'],
    [{ url: 'x' }, 'INVALID_TOKEN'],
  ];
  for (const [input, code] of cases) assert.throws(() => parseToken(input), isTokenError(code), String(input));
  assert.throws(() => formatToken({ prescriptionId: '160.000.239.761.370.48', accessCode: AC1 }), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => formatToken({ prescriptionId: T1.prescriptionId, accessCode: 'abc' }), isTokenError('INVALID_ACCESS_CODE'));
});

test('payload: 1, 2 and 3 tokens give the compact {"urls":[…]} text', () => {
  const u = (t: ERezeptToken) => `"Task/${t.prescriptionId}/$accept?ac=${t.accessCode}"`;
  assert.equal(buildDataMatrixPayload([T1]), `{"urls":[${u(T1)}]}`);
  assert.equal(buildDataMatrixPayload([T1, T2]), `{"urls":[${u(T1)},${u(T2)}]}`);
  assert.equal(buildDataMatrixPayload([T1, T2, T3]), `{"urls":[${u(T1)},${u(T2)},${u(T3)}]}`);
  for (const tokens of [[T1], [T1, T2], [T1, T2, T3]]) assert.deepEqual(parseDataMatrixPayload(buildDataMatrixPayload(tokens)), tokens);
});

test('payload: none, more than three, duplicates and invalid tokens are refused on build', () => {
  assert.throws(() => buildDataMatrixPayload([]), isTokenError('NO_TOKENS'));
  assert.throws(() => buildDataMatrixPayload([T1, T2, T3, { prescriptionId: '160.000.239.761.373.38', accessCode: AC1 }]), isTokenError('TOO_MANY_TOKENS'));
  assert.throws(() => buildDataMatrixPayload([T1, { ...T1, accessCode: AC2 }]), isTokenError('DUPLICATE_TOKEN'));
  assert.throws(() => buildDataMatrixPayload([T1, { prescriptionId: '160.000.239.761.370.46', accessCode: AC2 }]), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => buildDataMatrixPayload([T1, { prescriptionId: T2.prescriptionId, accessCode: 'x' }]), isTokenError('INVALID_ACCESS_CODE'));
});

test('payload parse: JSON escapes as printed in production and gematik\'s spaced example are accepted', () => {
  // Production printers write "=" as \u003d (the real codes in the dumps do).
  const escaped = `{"urls":["Task/160.000.239.761.370.47/$accept?ac\\u003d${AC1}"]}`;
  assert.deepEqual(parseDataMatrixPayload(escaped), [T1]);
  const spaced = `{   \n    "urls": ["Task/${T1.prescriptionId}/$accept?ac=${AC1}", \n    "Task/${T2.prescriptionId}/$accept?ac=${AC2}"   \n    ]\n} `;
  assert.deepEqual(parseDataMatrixPayload(spaced), [T1, T2]);
});

test('payload parse: every other shape is refused with a typed error', () => {
  const url = (t: ERezeptToken) => `Task/${t.prescriptionId}/$accept?ac=${t.accessCode}`;
  const cases: Array<[unknown, string]> = [
    ['hello', 'NOT_EREZEPT_PAYLOAD'],
    ['', 'NOT_EREZEPT_PAYLOAD'],
    ['[]', 'NOT_EREZEPT_PAYLOAD'],
    ['null', 'NOT_EREZEPT_PAYLOAD'],
    ['"urls"', 'NOT_EREZEPT_PAYLOAD'],
    [`{"urls":["${url(T1)}"],"extra":1}`, 'NOT_EREZEPT_PAYLOAD'],
    [`{"URLS":["${url(T1)}"]}`, 'NOT_EREZEPT_PAYLOAD'],
    [`{"urls":"${url(T1)}"}`, 'NOT_EREZEPT_PAYLOAD'],
    [`{"urls":["${url(T1)}"]`, 'NOT_EREZEPT_PAYLOAD'],
    ['{"urls":[]}', 'NO_TOKENS'],
    [JSON.stringify({ urls: [url(T1), url(T2), url(T3), url(T1)] }), 'TOO_MANY_TOKENS'],
    [JSON.stringify({ urls: [url(T1), url(T1)] }), 'DUPLICATE_TOKEN'],
    [JSON.stringify({ urls: [url(T1), 17] }), 'INVALID_TOKEN'],
    [JSON.stringify({ urls: ['Task/4711/$accept?ac=' + AC1] }), 'INVALID_PRESCRIPTION_ID'],
    [JSON.stringify({ urls: [`Task/${T1.prescriptionId}/$accept?ac=1234`] }), 'INVALID_ACCESS_CODE'],
    [`{"urls":["${url(T1)}"]}${' '.repeat(MAX_PAYLOAD_LENGTH)}`, 'NOT_EREZEPT_PAYLOAD'],
    [Buffer.from('{"urls":[]}'), 'NOT_EREZEPT_PAYLOAD'],
  ];
  for (const [input, code] of cases) {
    assert.throws(() => parseDataMatrixPayload(input), isTokenError(code), String(input).slice(0, 80));
  }
});
