/**
 * The inner HTTP/1.1 codec of the VAU transport, both directions: the strict request parser of the
 * Fachdienst (malformed → 400, oversize → 413), the response serializer, and the client direction
 * (request serializer, response parser) on the same syntax rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InnerHttpParseError,
  MAX_INNER_HEADER_BYTES,
  parseInnerRequest,
  parseInnerResponse,
  serializeInnerRequest,
  serializeInnerResponse,
} from '../../../simulators/lib/http-message';

const raw = (s: string) => Buffer.from(s, 'latin1');
const parseError = (status: 400 | 413, message?: RegExp) => (e: unknown) =>
  e instanceof InnerHttpParseError && e.status === status && (message === undefined || message.test(e.message));

test('request parser: request line, headers (lower-case), query and a Content-Length body', () => {
  const r = parseInnerRequest(raw('POST /Task/160.1/$activate?ac=abc&x=1 HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Type: application/fhir+xml\r\nContent-Length: 5\r\n\r\nhello'), 1024);
  assert.equal(r.method, 'POST');
  assert.equal(r.target, '/Task/160.1/$activate?ac=abc&x=1');
  assert.equal(r.path, '/Task/160.1/$activate');
  assert.equal(r.query.get('ac'), 'abc');
  assert.equal(r.headers.authorization, 'Bearer t');
  assert.equal(r.body.toString(), 'hello');
});

test('request parser: malformed → 400 "malformed inner HTTP request: …", declared body above the limit → 413', () => {
  const bad = [
    'GET /metadata HTTP/1.1\nHost: x\n\n',
    'GET /metadata HTTP/1.0\r\n\r\n',
    'GET metadata HTTP/1.1\r\n\r\n',
    'get /metadata HTTP/1.1\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nNoColon\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nA: b\r\n folded\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nBad Name: b\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nA: b\x00c\r\n\r\n',
    'POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    'POST /x HTTP/1.1\r\nContent-Length: -3\r\n\r\nabc',
    'POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc',
    'POST /x HTTP/1.1\r\n\r\nabc',
    'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nHost: x',
    'GET  /metadata HTTP/1.1\r\n\r\n',
    `GET /metadata HTTP/1.1\r\nX: ${'a'.repeat(MAX_INNER_HEADER_BYTES)}\r\n\r\n`,
  ];
  for (const b of bad) {
    assert.throws(() => parseInnerRequest(raw(b), 1024), parseError(400, /^malformed inner HTTP request: /), JSON.stringify(b.slice(0, 80)));
  }
  assert.throws(
    () => parseInnerRequest(raw('POST /x HTTP/1.1\r\nContent-Length: 2048\r\n\r\n'), 1024),
    (e: unknown) => e instanceof InnerHttpParseError && e.status === 413 && e.message === 'inner request body of 2048 bytes exceeds the limit of 1024 bytes',
  );
});

test('response serializer: status line, headers, computed Content-Length; the response parser reads it back', () => {
  const bytes = serializeInnerResponse({ status: 403, headers: { 'Content-Type': 'application/fhir+xml', 'Content-Length': '99' }, body: Buffer.from('<x/>') });
  assert.equal(bytes.toString(), 'HTTP/1.1 403 Forbidden\r\nContent-Type: application/fhir+xml\r\nContent-Length: 4\r\n\r\n<x/>');
  const back = parseInnerResponse(bytes, 1024);
  assert.equal(back.status, 403);
  assert.deepEqual(back.headers, { 'content-type': 'application/fhir+xml', 'content-length': '4' });
  assert.equal(back.body.toString(), '<x/>');
});

test('request serializer: round trip through the request parser; Content-Length for bodies and non-GET/HEAD/DELETE only', () => {
  const post = serializeInnerRequest({ method: 'POST', target: '/Task/$create?x=%20y', headers: { Authorization: 'Bearer t', 'content-length': '1' }, body: Buffer.from('<Parameters/>') });
  assert.equal(post.toString(), 'POST /Task/$create?x=%20y HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 13\r\n\r\n<Parameters/>');
  const p = parseInnerRequest(post, 1024);
  assert.deepEqual([p.method, p.target, p.path, p.query.get('x'), p.headers.authorization, p.body.toString()], ['POST', '/Task/$create?x=%20y', '/Task/$create', ' y', 'Bearer t', '<Parameters/>']);

  const get = serializeInnerRequest({ method: 'GET', target: '/metadata', headers: { Host: 'fd' }, body: Buffer.alloc(0) });
  assert.equal(get.toString(), 'GET /metadata HTTP/1.1\r\nHost: fd\r\n\r\n');
  assert.equal(parseInnerRequest(get, 0).headers['content-length'], undefined);

  const emptyPost = serializeInnerRequest({ method: 'POST', target: '/Task/1/$abort', headers: {}, body: Buffer.alloc(0) });
  assert.equal(emptyPost.toString(), 'POST /Task/1/$abort HTTP/1.1\r\nContent-Length: 0\r\n\r\n');
  assert.equal(parseInnerRequest(emptyPost, 0).body.length, 0);
});

test('response parser: with Content-Length, without (body is the rest), empty body, reason phrase optional', () => {
  const withLength = parseInnerResponse(raw('HTTP/1.1 201 Created\r\nLocation: /Task/1\r\nContent-Length: 2\r\n\r\n{}'), 1024);
  assert.deepEqual([withLength.status, withLength.headers.location, withLength.body.toString()], [201, '/Task/1', '{}']);
  const withoutLength = parseInnerResponse(raw('HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n\r\n{"a":1}'), 1024);
  assert.deepEqual([withoutLength.status, withoutLength.body.toString()], [200, '{"a":1}']);
  const empty = parseInnerResponse(raw('HTTP/1.1 204 No Content\r\n\r\n'), 1024);
  assert.deepEqual([empty.status, empty.body.length, Object.keys(empty.headers).length], [204, 0, 0]);
  assert.equal(parseInnerResponse(raw('HTTP/1.1 404\r\n\r\n'), 1024).status, 404);
  assert.equal(parseInnerResponse(raw('HTTP/1.1 500 \r\n\r\n'), 1024).status, 500);
});

test('response parser: chunked refused clearly, malformed → 400 "malformed inner HTTP response: …", oversize → 413', () => {
  assert.throws(
    () => parseInnerResponse(raw('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'), 1024),
    parseError(400, /^malformed inner HTTP response: Transfer-Encoding is not supported inside the VAU \(use Content-Length\)$/),
  );
  const bad = [
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc',
    'HTTP/1.0 200 OK\r\n\r\n',
    'HTTP/1.1 20 OK\r\n\r\n',
    'HTTP/1.1 999 Odd\r\n\r\n',
    'HTTP/1.1 200 O\x01K\r\n\r\n',
    'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n',
    'HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 0',
    `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_INNER_HEADER_BYTES)}\r\n\r\n`,
    '',
  ];
  for (const b of bad) {
    assert.throws(() => parseInnerResponse(raw(b), 1024), parseError(400, /^malformed inner HTTP response: /), JSON.stringify(b.slice(0, 80)));
  }
  assert.throws(
    () => parseInnerResponse(raw(`HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n${'a'.repeat(2048)}`), 1024),
    (e: unknown) => e instanceof InnerHttpParseError && e.status === 413 && e.message === 'inner response body of 2048 bytes exceeds the limit of 1024 bytes',
  );
  assert.throws(() => parseInnerResponse(raw(`HTTP/1.1 200 OK\r\n\r\n${'a'.repeat(1025)}`), 1024), parseError(413, /body of 1025 bytes/));
  assert.equal(parseInnerResponse(raw(`HTTP/1.1 200 OK\r\n\r\n${'a'.repeat(1024)}`), 1024).body.length, 1024);
});

test('serializers refuse what the parsers refuse (no header injection reaches the wire)', () => {
  const req = (over: Partial<Parameters<typeof serializeInnerRequest>[0]>) => () =>
    serializeInnerRequest({ method: 'GET', target: '/metadata', headers: {}, body: Buffer.alloc(0), ...over });
  assert.throws(req({ headers: { 'X-A': 'v\r\nAuthorization: Bearer other' } }), { name: 'TypeError', message: /^cannot serialize inner HTTP request: header field X-A has control characters$/ });
  assert.throws(req({ headers: { 'Bad Name': 'v' } }), { name: 'TypeError', message: /is not a token/ });
  assert.throws(req({ headers: { 'Transfer-Encoding': 'chunked' } }), { name: 'TypeError', message: /Transfer-Encoding is not supported/ });
  assert.throws(req({ method: 'get' }), { name: 'TypeError', message: /upper-case token/ });
  assert.throws(req({ target: 'metadata' }), { name: 'TypeError', message: /origin-form/ });
  assert.throws(req({ target: '/meta data' }), { name: 'TypeError', message: /origin-form/ });
  const res = (status: number, headers: Record<string, string> = {}) => () => serializeInnerResponse({ status, headers, body: Buffer.alloc(0) });
  assert.throws(res(99), { name: 'TypeError', message: /status 99 is not 100-599/ });
  assert.throws(res(600), { name: 'TypeError' });
  assert.throws(res(200, { Location: '/a\n' }), { name: 'TypeError', message: /^cannot serialize inner HTTP response: header field Location has control characters$/ });
});
