/**
 * PC/SC reader access for the simulators that use cards (Konnektor, PoPP client),
 * on pcsc-mini (libpcsclite). Small on purpose:
 *
 *   const reader = await openReader('TI Virtual PCD 0 00 00', { socket });
 *   const atr = await reader.waitForCard({ timeoutMs: 5000 });
 *   const rsp = await reader.transmit(Buffer.from('00A4040C07D2760001448000', 'hex'));
 *   await reader.close();
 *
 * Facts this module takes care of:
 * - libpcsclite finds pcscd through PCSCLITE_CSOCK_NAME, read once per process. The
 *   harness's pcscd has its own socket (cards/pcscd); pass it as `socket` (or set the
 *   variable before anything in the process uses PC/SC). One process talks to one pcscd.
 * - a pcsc-mini client sees at most 4 readers; the harness's pcscd offers at most 4.
 * - responses larger than 264 bytes (extended APDUs) need an output buffer of 65540 bytes.
 * - the ATR pcsc-mini passes with reader events is not reliable; the ATR comes from
 *   the connected card's state.
 * - a card that left the reader invalidates the connection; the next transmit reports
 *   it clearly and a later one connects again when a card is present.
 */
import type * as PcscMini from 'pcsc-mini';

/** Largest extended response (65536 data bytes + SW1 SW2) plus slack, as pcsc-lite sizes it. */
export const EXTENDED_APDU_BUFFER_BYTES = 65540;
export const DEFAULT_SOCKET = '/run/pcscd/pcscd.comm';
const DEFAULT_TIMEOUT_MS = 10_000;

export class PcscError extends Error {
  override name = 'PcscError';
  constructor(
    message: string,
    /** pcsc-mini / pcsc-lite error code (e.g. NoService, RemovedCard) or "Timeout". */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface PcscOptions {
  /** pcscd's socket (PCSCLITE_CSOCK_NAME); default: the variable as set, else the system socket. */
  socket?: string;
}

export interface ReaderState {
  name: string;
  present: boolean;
  /** Another connection holds the card (EXCLUSIVE) or uses it (IN_USE). */
  inUse: boolean;
  /** A card is there but did not answer (no ATR). */
  mute: boolean;
  /** Status flags as pcsc-mini names them, for messages. */
  flags: string;
}

let pcsc: typeof PcscMini | undefined;

function loadPcscMini(): typeof PcscMini {
  if (!pcsc) {
    try {
      pcsc = require('pcsc-mini') as typeof PcscMini;
    } catch (e) {
      throw new PcscError(
        `pcsc-mini could not be loaded (${(e as Error).message}); it needs libpcsclite (apt-get install libpcsclite1) and npm ci`,
        'NoLibrary',
      );
    }
  }
  return pcsc;
}

/** The socket this process's libpcsclite uses: fixed by the first PC/SC use in the process. */
let boundSocket: string | undefined;

/**
 * Points this process's PC/SC at `socket` (sets PCSCLITE_CSOCK_NAME). Must happen before
 * the first PC/SC call; asking for a different socket later is an error, because
 * libpcsclite reads the variable only once.
 */
export function usePcscSocket(socket?: string): string {
  const wanted = socket ?? boundSocket ?? process.env.PCSCLITE_CSOCK_NAME ?? DEFAULT_SOCKET;
  if (boundSocket === undefined) {
    if (socket) process.env.PCSCLITE_CSOCK_NAME = socket;
    boundSocket = wanted;
  } else if (boundSocket !== wanted) {
    throw new PcscError(
      `this process already talks to the pcscd at ${boundSocket}; libpcsclite reads PCSCLITE_CSOCK_NAME only once per process, ` +
        `so ${wanted} cannot be reached from here (use a separate process)`,
      'SocketBound',
    );
  }
  return boundSocket;
}

function describeError(e: unknown, context: string, socket: string): PcscError {
  const code = (e as { code?: unknown })?.code;
  // pcsc-mini's async tasks report the PC/SC error only in the message ("… Async task error
  // [NoSmartCard]"): take the name from there when there is no code, in our spelling.
  const fromMessage = /\[(\w+)\]\s*$/.exec(String((e as Error)?.message ?? ''))?.[1];
  const named = typeof code === 'string' ? code : fromMessage;
  const c = named === 'NoSmartCard' ? 'NoSmartcard' : named;
  const hints: Record<string, string> = {
    NoService: `pcscd is not running or not reachable at ${socket} (start it with "ti-harness up --only cards"; see docs/pcsc.md)`,
    NoReadersAvailable: 'pcscd has no readers',
    RemovedCard: 'the card was removed from the reader',
    NoSmartcard: 'there is no card in the reader',
    ResetCard: 'the card was reset by another connection',
    UnknownReader: 'pcscd does not know this reader (any more)',
    InsufficientBuffer: 'the response did not fit the output buffer',
    CommError: 'pcscd lost the connection to the reader or the card',
    SharingViolation: 'another application holds the card exclusively',
  };
  const detail = (c && hints[c]) ?? (e as Error)?.message ?? String(e);
  return new PcscError(`${context}: ${detail}${c ? ` [${c}]` : ''}`, c);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PcscError(`${what}: no answer within ${ms} ms`, 'Timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * One pcsc-mini client: tracks the readers pcscd reports and their status. Most
 * callers only need openReader()/listReaders(); the client is for code that watches
 * several readers.
 */
export class PcscClient {
  private readonly client: PcscMini.Client;
  private readonly states = new Map<string, ReaderState>();
  private readonly readers = new Map<string, PcscMini.Reader>();
  private readonly waiters = new Set<() => void>();
  private failure: PcscError | undefined;
  private closed = false;

  private constructor(readonly socket: string) {
    const mini = loadPcscMini();
    this.client = new mini.Client();
    this.client.on('error', (err) => {
      this.failure = describeError(err, 'PC/SC monitoring stopped', socket);
      this.notify();
    });
    this.client.on('reader', (reader) => {
      const name = reader.name();
      this.readers.set(name, reader);
      reader.on('change', (status) => {
        this.states.set(name, {
          name,
          present: status.has(mini.ReaderStatus.PRESENT),
          inUse: status.hasAny(mini.ReaderStatus.IN_USE, mini.ReaderStatus.EXCLUSIVE),
          mute: status.has(mini.ReaderStatus.MUTE),
          flags: status.toString(),
        });
        this.notify();
      });
      reader.on('disconnect', () => {
        this.readers.delete(name);
        this.states.delete(name);
        this.notify();
      });
    });
    try {
      this.client.start();
    } catch (e) {
      throw describeError(e, 'cannot reach pcscd', socket);
    }
  }

  /** Starts a client on `opts.socket` (see usePcscSocket). */
  static open(opts: PcscOptions = {}): PcscClient {
    return new PcscClient(usePcscSocket(opts.socket));
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Readers seen so far, with their last status. */
  readerStates(): ReaderState[] {
    return [...this.states.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Resolves when `check` returns a value (re-checked on every reader event), rejects after `timeoutMs`. */
  waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(poll);
      };
      const poll = () => {
        if (this.closed) {
          done();
          reject(new PcscError(`${what}: the PC/SC client was closed`, 'Closed'));
          return;
        }
        if (this.failure) {
          done();
          reject(this.failure);
          return;
        }
        let value: T | undefined;
        try {
          value = check();
        } catch (e) {
          done();
          reject(e);
          return;
        }
        if (value !== undefined) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(poll);
        const seen = this.readerStates().map((r) => `${r.name} ${r.flags}`).join('; ') || 'no readers';
        reject(new PcscError(`${what}: not within ${timeoutMs} ms (pcscd at ${this.socket} reports: ${seen})`, 'Timeout'));
      }, timeoutMs);
      this.waiters.add(poll);
      poll();
    });
  }

  /** Waits until pcscd reports all `names` (or at least one reader when `names` is empty). */
  waitForReaders(names: string[] = [], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ReaderState[]> {
    return this.waitUntil(
      () => {
        const states = this.readerStates();
        if (names.length === 0) return states.length ? states : undefined;
        return names.every((n) => this.states.has(n)) ? states : undefined;
      },
      timeoutMs,
      names.length ? `waiting for reader(s) ${names.join(', ')}` : 'waiting for any reader',
    );
  }

  /** The reader named `name`, once pcscd reports it. */
  async reader(name: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PcscReader> {
    await this.waitForReaders([name], timeoutMs);
    return new PcscReader(this, name);
  }

  /** @internal pcsc-mini's reader object, for PcscReader. */
  miniReader(name: string): PcscMini.Reader {
    const reader = this.readers.get(name);
    if (!reader) throw new PcscError(`reader "${name}" is not (or no longer) known to pcscd at ${this.socket}`, 'UnknownReader');
    return reader;
  }

  /** @internal */
  state(name: string): ReaderState | undefined {
    return this.states.get(name);
  }

  /** Stops monitoring; connections of this client's readers end. Idempotent; never throws. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.client.stop();
    } catch {
      // pcscd already gone: nothing to detach from
    }
    this.notify();
  }
}

export interface WaitOptions {
  timeoutMs?: number;
}

/** One reader: wait for a card, exchange APDUs, see it leave. */
export class PcscReader {
  private card: PcscMini.Card | undefined;
  private readonly output = new ArrayBuffer(EXTENDED_APDU_BUFFER_BYTES);
  private queue: Promise<unknown> = Promise.resolve();
  /** Set by openReader(): close() then also stops the client. */
  ownsClient = false;

  constructor(
    private readonly client: PcscClient,
    readonly name: string,
  ) {}

  /** Last reported status of the reader. */
  status(): ReaderState {
    const s = this.client.state(this.name);
    if (!s) throw new PcscError(`reader "${this.name}" is not (or no longer) known to pcscd at ${this.client.socket}`, 'UnknownReader');
    return s;
  }

  /** Waits until a card that answered with an ATR is in the reader; resolves with the ATR. */
  async waitForCard(opts: WaitOptions = {}): Promise<Buffer> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    await this.client.waitUntil(
      () => {
        const s = this.client.state(this.name);
        return s && s.present && !s.mute ? true : undefined;
      },
      timeoutMs,
      `waiting for a card in "${this.name}"`,
    );
    return this.atr({ timeoutMs });
  }

  /** Waits until the reader reports no card. */
  async waitForRemoval(opts: WaitOptions = {}): Promise<void> {
    await this.client.waitUntil(
      () => {
        const s = this.client.state(this.name);
        return s && !s.present ? true : undefined;
      },
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      `waiting for the card to leave "${this.name}"`,
    );
    // The connection to the card that left is dead; release it in pcscd.
    await this.disconnect();
  }

  /** The ATR of the card, read from the connected card's state (connects if needed). */
  atr(opts: WaitOptions = {}): Promise<Buffer> {
    return this.serial(async () => {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const card = await this.ensureCard(timeoutMs);
      try {
        const state = await withTimeout(card.state(), timeoutMs, `ATR of the card in "${this.name}"`);
        return Buffer.from(state.atr);
      } catch (e) {
        this.dropCardOn(e);
        throw e instanceof PcscError ? e : describeError(e, `ATR of the card in "${this.name}"`, this.client.socket);
      }
    });
  }

  /**
   * Sends one command APDU (short or extended) and returns the response APDU
   * (data + SW1 SW2). Connects to the card first if needed (shared mode).
   */
  transmit(apdu: Buffer | Uint8Array, opts: WaitOptions = {}): Promise<Buffer> {
    if (apdu.length < 4) return Promise.reject(new PcscError(`an APDU has at least 4 bytes, got ${apdu.length}`, 'InvalidApdu'));
    return this.serial(async () => {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const card = await this.ensureCard(timeoutMs);
      try {
        const response = await withTimeout(card.transmit(apdu, this.output), timeoutMs, `APDU to "${this.name}"`);
        // The response is a view of the shared output buffer: copy it out.
        return Buffer.from(response);
      } catch (e) {
        this.dropCardOn(e);
        throw e instanceof PcscError ? e : describeError(e, `APDU ${Buffer.from(apdu.subarray(0, 4)).toString('hex')}… to "${this.name}"`, this.client.socket);
      }
    });
  }

  /**
   * Runs `fn` inside a PC/SC transaction (SCardBeginTransaction … EndTransaction):
   * other PC/SC clients cannot send APDUs to the card until it ends, so a
   * multi-APDU sequence (SELECT, VERIFY, MSE, PSO …) is not interleaved with
   * theirs. `fn` uses `transmit` as usual. A transaction another client holds
   * makes this wait until it ends (bounded by `timeoutMs`).
   */
  async transaction<T>(fn: () => Promise<T>, opts: WaitOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const txn = await this.serial(async () => {
      const card = await this.ensureCard(timeoutMs);
      try {
        return await withTimeout(card.transaction(), timeoutMs, `transaction on the card in "${this.name}"`);
      } catch (e) {
        this.dropCardOn(e);
        throw e instanceof PcscError ? e : describeError(e, `transaction on the card in "${this.name}"`, this.client.socket);
      }
    });
    try {
      return await fn();
    } finally {
      const mini = loadPcscMini();
      await withTimeout(txn.end(mini.CardDisposition.LEAVE), timeoutMs, `end of the transaction on "${this.name}"`).catch(() => undefined);
    }
  }

  /** Ends the connection to the card (the card stays in the reader). `reset` resets the card. */
  disconnect(opts: { reset?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      const card = this.card;
      this.card = undefined;
      if (!card) return;
      const mini = loadPcscMini();
      try {
        await withTimeout(card.disconnect(opts.reset ? mini.CardDisposition.RESET : mini.CardDisposition.LEAVE), DEFAULT_TIMEOUT_MS, `disconnect from "${this.name}"`);
      } catch {
        // the card or pcscd is gone: the connection is over either way
      }
    });
  }

  /** Disconnects; when the reader came from openReader(), also stops its client. */
  async close(): Promise<void> {
    await this.disconnect();
    if (this.ownsClient) this.client.close();
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureCard(timeoutMs: number): Promise<PcscMini.Card> {
    if (this.card) return this.card;
    const s = this.client.state(this.name);
    if (s && !s.present) throw new PcscError(`no card in "${this.name}"`, 'NoSmartcard');
    const mini = loadPcscMini();
    try {
      this.card = await withTimeout(this.client.miniReader(this.name).connect(mini.CardMode.SHARED), timeoutMs, `connecting to the card in "${this.name}"`);
    } catch (e) {
      throw e instanceof PcscError ? e : describeError(e, `connecting to the card in "${this.name}"`, this.client.socket);
    }
    return this.card;
  }

  private dropCardOn(e: unknown): void {
    const code = (e as { code?: unknown })?.code;
    if (code === 'RemovedCard' || code === 'ResetCard' || code === 'NoSmartcard' || code === 'UnknownReader' || code === 'NoService' || code === 'CommError') {
      this.card = undefined;
    }
  }
}

/** Opens one reader on its own client; `close()` ends both. */
export async function openReader(name: string, opts: PcscOptions & WaitOptions = {}): Promise<PcscReader> {
  const client = PcscClient.open(opts);
  try {
    const reader = await client.reader(name, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    reader.ownsClient = true;
    return reader;
  } catch (e) {
    client.close();
    throw e;
  }
}

/**
 * The readers pcscd reports (at most 4 per client). pcsc-mini reports readers
 * asynchronously, so this waits until at least `atLeast` readers are known
 * (default 1) or `timeoutMs` passes; then returns what it has.
 */
export async function listReaders(opts: PcscOptions & WaitOptions & { atLeast?: number } = {}): Promise<ReaderState[]> {
  const client = PcscClient.open(opts);
  try {
    const atLeast = opts.atLeast ?? 1;
    try {
      return await client.waitUntil(() => (client.readerStates().length >= atLeast ? client.readerStates() : undefined), opts.timeoutMs ?? 2000, 'listing readers');
    } catch (e) {
      if (e instanceof PcscError && e.code === 'Timeout') return client.readerStates();
      throw e;
    }
  } finally {
    client.close();
  }
}
