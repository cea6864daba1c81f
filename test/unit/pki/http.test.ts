import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { HttpError, json, startHttpServer, text, type HttpServerHandle } from '../../../simulators/lib/http';

let serverPromise: Promise<HttpServerHandle> | undefined;
const logged: string[] = [];
const getServer = () =>
  (serverPromise ??= startHttpServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1000,
    log: (m) => logged.push(m),
    routes: [
      { method: 'GET', path: '/hello/:name', handler: (ctx) => text(200, `hi ${ctx.params.name}`) },
      { method: 'POST', path: '/echo', handler: (ctx) => json(200, ctx.json()) },
      { method: 'POST', path: '/small', maxBodyBytes: 10, handler: (ctx) => text(200, `got ${ctx.body.length}`) },
      { method: 'GET', path: '/rest/*', handler: (ctx) => text(200, ctx.params['*']) },
      { method: 'GET', path: '/teapot', handler: () => { throw new HttpError(418, 'short and stout'); } },
      { method: 'GET', path: '/boom', handler: () => { throw new Error('kaputt'); } },
      { method: 'GET', path: '/__admin/thing', handler: () => { throw new HttpError(400, 'bad thing', 'bad_thing'); } },
      { method: 'GET', path: /^\/re\/(\d+)$/, handler: (ctx) => text(200, `n=${ctx.params['0']}`) },
    ],
  }));
after(async () => {
  if (serverPromise) await (await serverPromise).close();
});

test('routes with parameters, rest paths and regular expressions', async () => {
  const s = await getServer();
  assert.equal(await (await fetch(`${s.url}/hello/W%C3%B6rld`)).text(), 'hi Wörld\n');
  assert.equal(await (await fetch(`${s.url}/rest/a/b%2Bc`)).text(), 'a/b%2Bc\n');
  assert.equal(await (await fetch(`${s.url}/re/42`)).text(), 'n=42\n');
  const echo = await fetch(`${s.url}/echo`, { method: 'POST', body: JSON.stringify({ a: [1, 2] }) });
  assert.deepEqual(await echo.json(), { a: [1, 2] });
  const head = await fetch(`${s.url}/hello/x`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('errors: 404 plain text, 405 with Allow, 413, HttpError status, 500 without crashing, JSON under /__admin', async () => {
  const s = await getServer();
  const nf = await fetch(`${s.url}/missing`);
  assert.equal(nf.status, 404);
  assert.equal(await nf.text(), 'not found: GET /missing\n');
  const m = await fetch(`${s.url}/echo`);
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'POST');
  const big = await fetch(`${s.url}/small`, { method: 'POST', body: 'x'.repeat(11) });
  assert.equal(big.status, 413);
  assert.match(await big.text(), /too large/);
  const okSmall = await fetch(`${s.url}/small`, { method: 'POST', body: 'x'.repeat(10) });
  assert.equal(await okSmall.text(), 'got 10\n');
  const tooBigDefault = await fetch(`${s.url}/echo`, { method: 'POST', body: 'x'.repeat(5000) });
  assert.equal(tooBigDefault.status, 413);
  const tea = await fetch(`${s.url}/teapot`);
  assert.equal(tea.status, 418);
  assert.equal(await tea.text(), 'short and stout\n');
  const boom = await fetch(`${s.url}/boom`);
  assert.equal(boom.status, 500);
  assert.match(await boom.text(), /internal error: kaputt/);
  assert.ok(logged.some((l) => l.includes('kaputt')));
  const admin = await fetch(`${s.url}/__admin/thing`);
  assert.equal(admin.status, 400);
  assert.deepEqual(await admin.json(), { error: 'bad_thing', message: 'bad thing' });
  const adminNf = await fetch(`${s.url}/__admin/none`);
  assert.deepEqual(await adminNf.json(), { error: 'not_found', message: 'not found: GET /__admin/none' });
  const badJson = await fetch(`${s.url}/echo`, { method: 'POST', body: '{' });
  assert.equal(badJson.status, 400);
  assert.match(await badJson.text(), /not valid JSON/);
  // the server is still alive
  assert.equal((await fetch(`${s.url}/hello/again`)).status, 200);
});

test('a streamed body beyond the limit is cut off with 413 and the server stays responsive', async () => {
  const s = await getServer();
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(s.port, '127.0.0.1', () => {
      sock.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 5; i++) sock.write(`400\r\n${'y'.repeat(0x400)}\r\n`);
    });
    let data = '';
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) sock.destroy();
    });
    sock.on('close', () => resolve(data));
    sock.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 413/);
  assert.equal((await fetch(`${s.url}/hello/still`)).status, 200);
});

test('garbage on the socket gets 400 and close() ends the server even with open connections', async () => {
  const s = await startHttpServer({ host: '127.0.0.1', port: 0, routes: [] });
  const reply = await new Promise<string>((resolve) => {
    const sock = net.connect(s.port, '127.0.0.1', () => sock.write('THIS IS NOT HTTP\r\n\r\n'));
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  const idle = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => idle.once('connect', r));
  const t0 = Date.now();
  await s.close();
  assert.ok(Date.now() - t0 < 3000);
  idle.destroy();
});
