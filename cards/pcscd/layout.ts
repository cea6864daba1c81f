/**
 * How the harness lays out its virtual card terminal: slots, vpcd ports, PC/SC
 * reader names, the reader.conf that pcscd reads, and the private run directory.
 *
 * Facts about vsmartcard's vpcd driver (Debian vsmartcard-vpcd 3.3) this relies on:
 * - one reader.conf entry gives two PC/SC readers ("<FRIENDLYNAME> 00 00" and
 *   "… 00 01"); reader k of the entry listens on TCP CHANNELID + k (all interfaces);
 * - DEVICENAME "/dev/null:<port>" makes vpcd listen (any other host name would make
 *   it connect out instead);
 * - the driver keeps its slots in global variables, so two entries must load two
 *   separate copies of the .so (pcscd loads one file only once).
 * pcsc-mini sees at most 4 readers per client, so the harness offers 2 or 4 slots.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_VPCD_PORT = 35963;
export const SLOTS_PER_READER_ENTRY = 2;
export const MAX_SLOTS = 4;
export const READER_NAME_PREFIX = 'TI Virtual PCD';
/** sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
export const MAX_UNIX_SOCKET_PATH = 107;

export interface SlotLayout {
  slot: number;
  /** vpcd port of this slot (vpcdPort + slot). */
  port: number;
  /** The PC/SC reader name pcscd gives this slot. */
  readerName: string;
}

export interface ReaderEntry {
  friendlyName: string;
  /** CHANNELID: the port of the entry's first reader. */
  port: number;
  /** File name of this entry's private copy of the driver. */
  driverFile: string;
}

export interface PcscdLayout {
  vpcdPort: number;
  slots: SlotLayout[];
  entries: ReaderEntry[];
}

export class LayoutError extends Error {
  override name = 'LayoutError';
}

export function planLayout(slots: number, vpcdPort = DEFAULT_VPCD_PORT): PcscdLayout {
  if (!Number.isInteger(slots) || slots < SLOTS_PER_READER_ENTRY || slots > MAX_SLOTS || slots % SLOTS_PER_READER_ENTRY !== 0) {
    throw new LayoutError(
      `slots must be 2 or 4, got ${slots}: vpcd's driver gives readers in pairs and a pcsc-mini client sees at most ${MAX_SLOTS} readers`,
    );
  }
  if (!Number.isInteger(vpcdPort) || vpcdPort < 1024 || vpcdPort + slots - 1 > 65535) {
    throw new LayoutError(`vpcdPort must be 1024..${65536 - slots}, got ${vpcdPort}`);
  }
  const entries: ReaderEntry[] = [];
  const slotLayouts: SlotLayout[] = [];
  for (let e = 0; e < slots / SLOTS_PER_READER_ENTRY; e++) {
    const friendlyName = `${READER_NAME_PREFIX} ${e}`;
    const port = vpcdPort + e * SLOTS_PER_READER_ENTRY;
    entries.push({ friendlyName, port, driverFile: `libifdvpcd-${e}.so` });
    for (let k = 0; k < SLOTS_PER_READER_ENTRY; k++) {
      slotLayouts.push({ slot: e * SLOTS_PER_READER_ENTRY + k, port: port + k, readerName: `${friendlyName} 00 ${String(k).padStart(2, '0')}` });
    }
  }
  return { vpcdPort, slots: slotLayouts, entries };
}

/** reader.conf for pcscd's --config directory; `driverDir` holds the per-entry driver copies. */
export function renderReaderConf(layout: PcscdLayout, driverDir: string): string {
  const lines = ['# Written by ti-harness (cards/pcscd): one vpcd entry per pair of slots, each with its own driver copy.', ''];
  for (const entry of layout.entries) {
    lines.push(
      `FRIENDLYNAME "${entry.friendlyName}"`,
      `DEVICENAME   /dev/null:${entry.port}`,
      `LIBPATH      ${path.join(driverDir, entry.driverFile)}`,
      `CHANNELID    ${entry.port}`,
      '',
    );
  }
  return lines.join('\n');
}

/** The files of one harness pcscd. The ipc directory is mounted over /run/pcscd inside pcscd's mount namespace. */
export interface RunPaths {
  runDir: string;
  configDir: string;
  driverDir: string;
  ipcDir: string;
  /** PCSCLITE_CSOCK_NAME for PC/SC clients of this pcscd. */
  socketPath: string;
  pidFile: string;
  logFile: string;
}

/**
 * Default run directory: short and derived from the vpcd port, so every process
 * (and a user's shell) can find the socket of the pcscd that serves those ports.
 */
export function defaultRunDir(vpcdPort = DEFAULT_VPCD_PORT): string {
  return path.join(os.tmpdir(), `ti-harness-pcscd-${vpcdPort}`);
}

/** The PC/SC socket of the harness pcscd serving `vpcdPort` (with the default run directory). */
export function pcscSocketPath(vpcdPort = DEFAULT_VPCD_PORT): string {
  return runPaths(defaultRunDir(vpcdPort)).socketPath;
}

export function runPaths(runDir: string): RunPaths {
  const abs = path.resolve(runDir);
  const ipcDir = path.join(abs, 'ipc');
  return {
    runDir: abs,
    configDir: path.join(abs, 'reader.conf.d'),
    driverDir: path.join(abs, 'drivers'),
    ipcDir,
    socketPath: path.join(ipcDir, 'pcscd.comm'),
    pidFile: path.join(ipcDir, 'pcscd.pid'),
    logFile: path.join(abs, 'pcscd.log'),
  };
}
