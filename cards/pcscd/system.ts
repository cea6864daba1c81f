/**
 * What the pcscd manager needs to know about this machine: where programs and the
 * vpcd driver are, whether a TCP port is free (and who holds it), which processes
 * are alive. Linux only (reads /proc).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { canConnect } from '../../simulators/lib/net-probe';

/** Where Debian and other distributions put vsmartcard's vpcd driver. */
export const VPCD_DRIVER_CANDIDATES = [
  '/usr/lib/pcsc/drivers/serial/libifdvpcd.so',
  '/usr/lib/x86_64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so',
  '/usr/lib/aarch64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so',
  '/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so',
  '/usr/lib64/pcsc/drivers/serial/libifdvpcd.so',
];

const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of a program found in PATH or the usual system directories, or undefined. */
export function findProgram(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean), ...SYSTEM_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The vpcd driver: $TI_VPCD_DRIVER, or the first existing candidate. */
export function findVpcdDriver(override = process.env.TI_VPCD_DRIVER): string | undefined {
  if (override) return fs.existsSync(override) ? override : undefined;
  return VPCD_DRIVER_CANDIDATES.find((p) => fs.existsSync(p));
}

/** Resolves true when `port` can be bound on `host` right now (the probe socket is closed again at once). */
export function isPortFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface ProcessInfo {
  pid: number;
  /** Command line with arguments separated by spaces. */
  cmdline: string;
}

function readCmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Single-letter process state from /proc/<pid>/stat (R, S, D, Z, …), or undefined when there is no such process. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": comm may contain spaces and parentheses; the state follows the last ")".
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** True when the process exists and is not a zombie (a dead child nobody has reaped yet). */
export function isProcessAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** All live processes whose executable name is `comm` (e.g. "pcscd"). */
export function findProcesses(comm: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let name: string;
    try {
      name = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (name === comm && isProcessAlive(pid)) found.push({ pid, cmdline: readCmdline(pid) });
  }
  return found;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Socket inodes of TCP sockets listening on `port` (IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningSocketInodes(port: number): number[] {
  const inodes: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1].split(':')[1] ?? '', 16);
      // state 0A = LISTEN
      if (localPort === port && cols[3] === '0A') inodes.push(Number(cols[9]));
    }
  }
  return inodes;
}

/** True when something listens on TCP `port` (checked without connecting: a connection to vpcd would insert a card). */
export function isListening(port: number): boolean {
  return listeningSocketInodes(port).length > 0;
}

/** The process that holds a listening socket on `port`, when /proc lets us see it. */
export function listeningPortOwner(port: number): ProcessInfo | undefined {
  const inodes = new Set(listeningSocketInodes(port).map((i) => `socket:[${i}]`));
  if (inodes.size === 0) return undefined;
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of safeReaddir(`/proc/${entry}/fd`)) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) return { pid: Number(entry), cmdline: readCmdline(Number(entry)) };
    }
  }
  return undefined;
}

/** True when a Unix socket at `socketPath` accepts connections (the probe connection is closed at once). */
export function canConnectUnix(socketPath: string, timeoutMs = 500): Promise<boolean> {
  return canConnect({ path: socketPath }, timeoutMs);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
