/**
 * Fast vpcd round trips: vsmartcard's vpcd (Debian 3.3) sends each message as two
 * writes (the 2-byte length, then the body) on a socket without TCP_NODELAY. Nagle's
 * algorithm holds the body back until the length is acknowledged, and the card side's
 * kernel delays that ACK by 40 ms: every APDU would take ~44 ms (vsmartcard issue #322).
 *
 * The harness therefore connects its cards to vpcd through a loopback address of its
 * own, 127.77.0.1, with a local route that acknowledges at once (`quickack 1`):
 *
 *   ip route add local 127.77.0.1 dev lo table local quickack 1
 *
 * Only traffic to that address is affected. The route is added when the first harness
 * pcscd starts and removed when the last one stops (a route left by a killed harness
 * is removed by the next one that stops). Without `ip` or without the permission the
 * cards still work, just ~40 ms per APDU slower.
 */
import { execFileSync } from 'node:child_process';
import { findProgram } from './system';

export const VPCD_LOOPBACK_HOST = '127.77.0.1';
/** Where the cards connect when the quick-ACK route is not available. */
export const PLAIN_LOOPBACK_HOST = '127.0.0.1';

export interface QuickAckRoute {
  /** The address the card side should connect to vpcd with. */
  host: string;
  /** True when the quick-ACK route is in place (added by us or found). */
  active: boolean;
  /** True when the route is the harness's own (added now, or left by an earlier harness): it may be removed. */
  managed: boolean;
  /** Why the route is not active, when it is not. */
  reason?: string;
}

function ip(args: string[]): string {
  const bin = findProgram('ip');
  if (!bin) throw new Error('the "ip" program (Debian package iproute2) is not installed');
  return execFileSync(bin, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function currentRoute(host: string): string {
  return ip(['-o', 'route', 'show', 'table', 'local', 'to', 'exact', host]).trim();
}

/** Makes sure the quick-ACK route for `host` exists; never throws. */
export function enableQuickAck(host = VPCD_LOOPBACK_HOST): QuickAckRoute {
  try {
    const existing = currentRoute(host);
    if (existing) {
      if (/\bquickack 1\b/.test(existing)) return { host, active: true, managed: true };
      return { host: PLAIN_LOOPBACK_HOST, active: false, managed: false, reason: `a route for ${host} exists without quickack (${existing}); left alone` };
    }
    ip(['route', 'add', 'local', host, 'dev', 'lo', 'table', 'local', 'quickack', '1']);
    return { host, active: true, managed: true };
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    return { host: PLAIN_LOOPBACK_HOST, active: false, managed: false, reason: (err.stderr || err.message || String(e)).trim() };
  }
}

/** Removes the harness's route unless `keep` (another harness pcscd still needs it); never throws. */
export function disableQuickAck(route: QuickAckRoute, keep: boolean): void {
  if (!route.managed || keep) return;
  try {
    ip(['route', 'del', 'local', route.host, 'dev', 'lo', 'table', 'local']);
  } catch {
    // already gone
  }
}
