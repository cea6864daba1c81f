/** pcsc-reader without a pcscd: clear errors instead of hangs, and one socket per process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { listReaders, openReader, PcscError, usePcscSocket, EXTENDED_APDU_BUFFER_BYTES } from '../../../simulators/lib/pcsc-reader';

const NOWHERE = path.join(os.tmpdir(), 'ti-harness-no-pcscd', 'pcscd.comm');

test('no pcscd at the socket: openReader and listReaders fail at once with NoService and say where they looked', async () => {
  assert.equal(usePcscSocket(NOWHERE), NOWHERE);
  assert.equal(process.env.PCSCLITE_CSOCK_NAME, NOWHERE);
  const t0 = Date.now();
  await assert.rejects(openReader('TI Virtual PCD 0 00 00', { timeoutMs: 2000 }), (e: Error) => {
    assert.ok(e instanceof PcscError);
    assert.equal(e.code, 'NoService');
    assert.match(e.message, new RegExp(`pcscd is not running or not reachable at ${NOWHERE.replace(/[.]/g, '\\.')}`));
    return true;
  });
  await assert.rejects(listReaders(), (e: Error) => e instanceof PcscError && e.code === 'NoService');
  assert.ok(Date.now() - t0 < 1500, 'no waiting for a timeout');
});

test('libpcsclite reads the socket once per process: another socket later is refused with the reason', () => {
  assert.throws(() => usePcscSocket('/tmp/other/pcscd.comm'), (e: Error) => e instanceof PcscError && e.code === 'SocketBound' && /reads PCSCLITE_CSOCK_NAME only once per process/.test(e.message));
  assert.equal(usePcscSocket(), NOWHERE, 'asking again without a socket keeps the bound one');
  assert.equal(EXTENDED_APDU_BUFFER_BYTES, 65540);
});
