/**
 * Starts and stops the harness's own pcscd with vpcd readers.
 *
 * pcscd's socket path (/run/pcscd/pcscd.comm) is compiled in, so the harness runs
 * pcscd in a private mount namespace where its run directory's `ipc/` folder is
 * mounted over /run/pcscd. The socket file then lives in that folder, visible to
 * everyone: PC/SC clients reach this pcscd with PCSCLITE_CSOCK_NAME=<ipc>/pcscd.comm,
 * and a system pcscd (if any) is left alone. Creating a mount namespace needs root.
 *
 *   setpriv --pdeathsig SIGTERM -- unshare --mount --propagation private -- \
 *     sh -c 'mkdir -p /run/pcscd && mount --bind <ipc> /run/pcscd && exec pcscd --foreground --config <conf>'
 *
 * Every step execs the next, so the child PID is pcscd's PID; the parent-death signal
 * stops pcscd even when the harness is killed with SIGKILL. stop() sends SIGTERM,
 * then SIGKILL to the process group after a timeout; a process 'exit' hook stops
 * any pcscd still running when the harness exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { MAX_UNIX_SOCKET_PATH, defaultRunDir, planLayout, renderReaderConf, runPaths, type PcscdLayout, type RunPaths } from './layout';
import { disableQuickAck, enableQuickAck, type QuickAckRoute } from './quickack';
import { canConnectUnix, findProcesses, findProgram, findVpcdDriver, isListening, isPortFree, isProcessAlive, isRoot, listeningPortOwner, VPCD_DRIVER_CANDIDATES } from './system';

export interface PcscdOptions {
  /** 2 or 4 (default 4). */
  slots?: number;
  /** vpcd listens on vpcdPort + slot (default 35963). */
  vpcdPort?: number;
  /** Private run directory (default $TMPDIR/ti-harness-pcscd-<vpcdPort>). */
  runDir?: string;
  /** Time pcscd has to create its socket and all vpcd readers (default 10 s). */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on stop (default 3 s). */
  stopTimeoutMs?: number;
  /** pcscd --debug --apdu (log file only). */
  debug?: boolean;
  /** Keep the run directory (reader.conf, pcscd.log) after stop, for troubleshooting. */
  keepRunDir?: boolean;
  log?: (message: string) => void;
  /** Called when pcscd exits without stop() having been called. */
  onUnexpectedExit?: (description: string) => void;
}

export interface PcscdHandle {
  pid: number;
  layout: PcscdLayout;
  paths: RunPaths;
  /** PCSCLITE_CSOCK_NAME for clients of this pcscd. */
  socketPath: string;
  /** The address cards connect to vpcd with (127.77.0.1 with the quick-ACK route, else 127.0.0.1; see quickack.ts). */
  vpcdHost: string;
  /** False once pcscd has exited. */
  readonly running: boolean;
  /** The last lines pcscd printed. */
  logTail(): string;
  /** Stops pcscd (SIGTERM, then SIGKILL) and removes its run directory (socket, pid file, driver copies, log). Idempotent. */
  stop(): Promise<void>;
}

export class PcscdError extends Error {
  override name = 'PcscdError';
}

const LOG_TAIL_LINES = 40;

/**
 * pcscd error-level lines that are expected and harmless: vpcd supports no reader
 * control codes, and clients such as opensc-tool probe for them. They still go to
 * the log file, but not to the harness log.
 */
const HARMLESS_OUTPUT = [/IFDControl\(\) Card not transacted: 606/];

/** Every pcscd this process started and has not stopped yet. */
const live = new Map<number, ChildProcess>();
/** Quick-ACK routes of pcscds this process started (removed at exit if no harness pcscd needs them). */
const addedRoutes = new Set<QuickAckRoute>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    const ours = [...live.keys()];
    for (const pid of ours) killGroup(pid, 'SIGTERM');
    for (const route of addedRoutes) disableQuickAck(route, otherHarnessPcscdRunning(ours));
  });
}

/** The command line every harness pcscd has (see startPcscd). */
const HARNESS_PCSCD_MARK = /pcscd --foreground --config \S*reader\.conf\.d/;

/** True when a harness pcscd other than `exclude` runs on this machine (from any process). */
function otherHarnessPcscdRunning(exclude: number[]): boolean {
  return findProcesses('pcscd').some((p) => !exclude.includes(p.pid) && HARNESS_PCSCD_MARK.test(p.cmdline));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

/** Checks everything that must hold before pcscd can start; throws PcscdError saying what to do. */
export async function preflight(layout: PcscdLayout, paths: RunPaths): Promise<{ pcscd: string; unshare: string; setpriv?: string; driver: string }> {
  if (process.platform !== 'linux') throw new PcscdError(`the virtual cards need Linux (pcscd + vsmartcard-vpcd); this is ${process.platform}`);
  if (!isRoot()) {
    throw new PcscdError(
      'the virtual cards need root: the harness runs its own pcscd in a private mount namespace (unshare --mount), ' +
        'which an ordinary user may not create. Run the harness as root (e.g. `sudo -E npx ti-harness up`, `sudo -E npm test`) ' +
        'or leave the cards service out (`ti-harness up --only pki`). See docs/pcsc.md.',
    );
  }
  const missing: string[] = [];
  const pcscd = findProgram('pcscd');
  const unshare = findProgram('unshare');
  const setpriv = findProgram('setpriv');
  if (!pcscd) missing.push('pcscd (Debian package pcscd)');
  if (!unshare || !findProgram('mount')) missing.push('unshare and mount (Debian package util-linux / mount)');
  const driver = findVpcdDriver();
  if (!driver) missing.push(`the vpcd driver libifdvpcd.so (Debian package vsmartcard-vpcd; looked in ${VPCD_DRIVER_CANDIDATES.join(', ')}; or set TI_VPCD_DRIVER)`);
  if (missing.length || !pcscd || !unshare || !driver) {
    throw new PcscdError(`cannot start pcscd, missing: ${missing.join('; ')}. Install with: apt-get install pcscd vsmartcard-vpcd util-linux (bin/bootstrap.js does this as root)`);
  }
  if (Buffer.byteLength(paths.socketPath) > MAX_UNIX_SOCKET_PATH) {
    throw new PcscdError(`the PC/SC socket path ${paths.socketPath} is longer than ${MAX_UNIX_SOCKET_PATH} bytes; choose a shorter run directory (TMPDIR)`);
  }
  const stalePid = readPid(paths.pidFile);
  if (stalePid && isProcessAlive(stalePid) && /pcscd/.test(safeRead(`/proc/${stalePid}/comm`))) {
    throw new PcscdError(
      `a harness pcscd for vpcd port ${layout.vpcdPort} is already running (pid ${stalePid}, run directory ${paths.runDir}): ` +
        `another "ti-harness up" or test uses these ports. Stop it (Ctrl-C there, or kill ${stalePid}) or use another cards.vpcdPort.`,
    );
  }
  for (const slot of layout.slots) {
    if (await isPortFree(slot.port)) continue;
    const owner = listeningPortOwner(slot.port);
    const who = owner ? `pid ${owner.pid} (${owner.cmdline || 'unknown command'})` : 'another process';
    const hint =
      owner && /pcscd/.test(owner.cmdline)
        ? ' This looks like a pcscd started outside the harness (e.g. the system pcscd with vsmartcard\'s /etc/reader.conf.d/vpcd): ' +
          `stop it (\`service pcscd stop\`, or kill ${owner.pid}) or move the harness with cards.vpcdPort.`
        : ' Stop that process or choose another cards.vpcdPort in the environment file.';
    throw new PcscdError(`vpcd port ${slot.port} (slot ${slot.slot}) is in use by ${who}.${hint}`);
  }
  return { pcscd, unshare, setpriv, driver };
}

function readPid(file: string): number | undefined {
  const n = Number(safeRead(file).trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function prepareRunDir(layout: PcscdLayout, paths: RunPaths, driver: string): void {
  fs.mkdirSync(paths.runDir, { recursive: true });
  for (const dir of [paths.ipcDir, paths.driverDir, paths.configDir]) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
  }
  for (const entry of layout.entries) fs.copyFileSync(driver, `${paths.driverDir}/${entry.driverFile}`);
  fs.writeFileSync(`${paths.configDir}/vpcd`, renderReaderConf(layout, paths.driverDir));
  fs.writeFileSync(paths.logFile, '');
}

/** After a clean stop: the whole run directory goes (with keepRunDir only the socket, pid file and driver copies). */
function cleanRunDir(paths: RunPaths, keepRunDir: boolean): void {
  const dirs = keepRunDir ? [paths.ipcDir, paths.driverDir] : [paths.runDir];
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}

const MOUNT_AND_EXEC = 'mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && shift && exec "$@"';

export async function startPcscd(opts: PcscdOptions = {}): Promise<PcscdHandle> {
  const log = opts.log ?? (() => undefined);
  const layout = planLayout(opts.slots ?? 4, opts.vpcdPort);
  const paths = runPaths(opts.runDir ?? defaultRunDir(layout.vpcdPort));
  const tools = await preflight(layout, paths);
  prepareRunDir(layout, paths, tools.driver);
  const quickAck = enableQuickAck();
  if (quickAck.managed) addedRoutes.add(quickAck);
  if (!quickAck.active) log(`no quick-ACK route for vpcd (${quickAck.reason}): every APDU will take about 40 ms longer (see cards/pcscd/quickack.ts)`);

  const pcscdArgs = [tools.pcscd, '--foreground', '--config', paths.configDir, ...(opts.debug ? ['--debug', '--apdu'] : [])];
  const inner = [tools.unshare, '--mount', '--propagation', 'private', '--', 'sh', '-c', MOUNT_AND_EXEC, 'sh', paths.ipcDir, ...pcscdArgs];
  const argv = tools.setpriv ? [tools.setpriv, '--pdeathsig', 'SIGTERM', '--', ...inner] : inner;
  if (!tools.setpriv) log('setpriv not found: pcscd will not be stopped automatically if this process is killed with SIGKILL');

  const tail: string[] = [];
  let partial = '';
  const onOutput = (chunk: Buffer) => {
    fs.appendFileSync(paths.logFile, chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      if (!opts.debug && !HARMLESS_OUTPUT.some((re) => re.test(line))) log(`pcscd: ${line.trim()}`);
    }
  };
  const logTail = () => [...tail, partial].filter(Boolean).join('\n');

  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new PcscdError(`could not start pcscd (${argv[0]}): ${err.message}`);
  }
  live.set(pid, child);
  installExitHook();
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  // pcscd must not keep the harness alive on its own; the exit hook stops it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void })?.unref?.();
  (child.stderr as unknown as { unref?: () => void })?.unref?.();

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopping = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(pid);
      if (!stopping) {
        const description = `pcscd (pid ${pid}) exited unexpectedly (${signal ?? `code ${code}`})${logTail() ? `; last output:\n${logTail()}` : ''}`;
        log(description);
        opts.onUnexpectedExit?.(description);
      }
      resolve();
    });
  });
  child.once('error', (err) => log(`pcscd process error: ${err.message}`));

  let stopped: Promise<void> | undefined;
  const handle: PcscdHandle = {
    pid,
    layout,
    paths,
    socketPath: paths.socketPath,
    vpcdHost: quickAck.host,
    get running() {
      return exited === undefined;
    },
    logTail,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (!exited) {
          killGroup(pid, 'SIGTERM');
          const timeout = opts.stopTimeoutMs ?? 3000;
          if (!(await waitFor(exitPromise, timeout))) {
            log(`pcscd (pid ${pid}) did not stop within ${timeout} ms of SIGTERM; sending SIGKILL`);
            killGroup(pid, 'SIGKILL');
            if (!(await waitFor(exitPromise, 2000))) throw new PcscdError(`pcscd (pid ${pid}) survived SIGKILL`);
          }
        }
        cleanRunDir(paths, opts.keepRunDir ?? false);
        addedRoutes.delete(quickAck);
        if (addedRoutes.size === 0) disableQuickAck(quickAck, otherHarnessPcscdRunning([pid]));
      })();
      return stopped;
    },
  };

  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exited) {
        throw new PcscdError(`pcscd exited during start (${exited.signal ?? `code ${exited.code}`})${logTail() ? `:\n${logTail()}` : ''}`);
      }
      const portsUp = layout.slots.every((s) => isListening(s.port));
      if (portsUp && fs.existsSync(paths.socketPath) && (await canConnectUnix(paths.socketPath))) break;
      if (Date.now() > deadline) {
        const waiting = [
          ...layout.slots.filter((s) => !isListening(s.port)).map((s) => `vpcd port ${s.port}`),
          ...(fs.existsSync(paths.socketPath) ? [] : [`socket ${paths.socketPath}`]),
        ];
        throw new PcscdError(`pcscd did not become ready within ${timeoutMs} ms (still waiting for ${waiting.join(', ') || 'the socket to accept'})${logTail() ? `; output:\n${logTail()}` : ''}`);
      }
      await sleep(25);
    }
  } catch (e) {
    await handle.stop().catch(() => undefined);
    throw e;
  }
  log(`pcscd running (pid ${pid}), ${layout.slots.length} vpcd slots on ports ${layout.slots[0].port}-${layout.slots[layout.slots.length - 1].port}, socket ${paths.socketPath}`);
  return handle;
}

function waitFor(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
