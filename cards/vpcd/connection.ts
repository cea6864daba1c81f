/**
 * One virtual card in one vpcd slot: a TCP client connection from this process to
 * the vpcd driver inside pcscd (which listens on vpcdPort + slot). Connecting is
 * inserting the card, closing is removing it.
 *
 *   const conn = new VpcdConnection({ card, port: 35963 });
 *   await conn.insert();   // resolves once vpcd has polled the card (it is visible in PC/SC)
 *   …
 *   await conn.remove();
 *
 * While inserted, a dropped connection (pcscd restarted, vpcd gave up on a broken
 * stream) is re-established in the background with a growing delay, until remove().
 */
import * as net from 'node:net';
import { handleVpcdMessage, type VpcdEvent } from './dispatch';
import { encodeFrame, FrameDecoder, FramingError, MAX_FRAME_PAYLOAD, VpcdControl } from './framing';
import type { VirtualCard } from './types';

export type VpcdConnectionState = 'removed' | 'inserting' | 'inserted' | 'reconnecting';

export interface VpcdConnectionOptions {
  card: VirtualCard;
  /** vpcd port of the slot (vpcdPort + slot). */
  port: number;
  host?: string;
  /** insert() fails unless vpcd accepts and polls the card within this time (default 5000 ms). */
  insertTimeoutMs?: number;
  /**
   * After vpcd's first poll, how long insert() waits for pcscd to power the card up and
   * read its ATR (from then on PC/SC clients see the card); default 1000 ms.
   */
  powerUpGraceMs?: number;
  /** First delay before re-connecting after a dropped connection; doubles up to maxReconnectDelayMs (default 100 ms). */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Re-connect after the connection dropped while inserted (default true). */
  reconnect?: boolean;
  /** Largest message accepted from vpcd (default and maximum 65535). */
  maxPayload?: number;
  log?: (message: string) => void;
  /** Every control message and APDU, for tracing and statistics. */
  onEvent?: (event: VpcdEvent) => void;
  onStateChange?: (state: VpcdConnectionState) => void;
}

export interface VpcdConnectionStats {
  /** Successful TCP connections (1 + reconnects). */
  connects: number;
  atrRequests: number;
  apdus: number;
}

export class VpcdInsertError extends Error {
  override name = 'VpcdInsertError';
}

const CONNECT_ATTEMPT_TIMEOUT_MS = 1000;

type AttachOutcome = 'polled' | 'closed' | 'timeout';

export class VpcdConnection {
  readonly port: number;
  readonly host: string;
  readonly card: VirtualCard;
  readonly stats: VpcdConnectionStats = { connects: 0, atrRequests: 0, apdus: 0 };
  private _state: VpcdConnectionState = 'removed';
  private socket: net.Socket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  /** Incremented by remove(): callbacks of an older insertion are ignored. */
  private generation = 0;
  private readonly log: (message: string) => void;

  constructor(private readonly opts: VpcdConnectionOptions) {
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new RangeError(`vpcd port must be 1..65535, got ${opts.port}`);
    this.port = opts.port;
    this.host = opts.host ?? '127.0.0.1';
    this.card = opts.card;
    this.log = opts.log ?? (() => undefined);
    this.reconnectDelay = opts.reconnectDelayMs ?? 100;
  }

  get state(): VpcdConnectionState {
    return this._state;
  }

  private setState(state: VpcdConnectionState): void {
    if (this._state === state) return;
    this._state = state;
    this.opts.onStateChange?.(state);
  }

  /**
   * Connects to vpcd and resolves once the card is visible through PC/SC: vpcd polled
   * it and pcscd powered it up and read the ATR (or powerUpGraceMs passed after the poll).
   */
  async insert(): Promise<void> {
    if (this._state !== 'removed') throw new VpcdInsertError(`a card is already inserted at vpcd port ${this.port} (state ${this._state})`);
    const generation = ++this.generation;
    const timeoutMs = this.opts.insertTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    this.setState('inserting');
    let lastError = '';
    try {
      while (Date.now() < deadline) {
        if (generation !== this.generation) throw new VpcdInsertError(`insertion at vpcd port ${this.port} was cancelled by remove()`);
        let socket: net.Socket;
        try {
          socket = await this.connectOnce(Math.min(CONNECT_ATTEMPT_TIMEOUT_MS, Math.max(1, deadline - Date.now())));
        } catch (e) {
          lastError = (e as Error).message;
          await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
          continue;
        }
        if (generation !== this.generation) {
          socket.destroy();
          throw new VpcdInsertError(`insertion at vpcd port ${this.port} was cancelled by remove()`);
        }
        const outcome = await this.attach(socket, generation, Math.max(1, deadline - Date.now()));
        if (outcome === 'polled') {
          this.reconnectDelay = this.opts.reconnectDelayMs ?? 100;
          this.setState('inserted');
          return;
        }
        if (outcome === 'closed') {
          lastError = 'vpcd closed the connection before polling the card';
          await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
          continue;
        }
        socket.destroy();
        throw new VpcdInsertError(
          `vpcd at ${this.host}:${this.port} accepted the connection but did not poll the card within ${timeoutMs} ms: ` +
            'is another card already in this slot (vpcd serves one card per slot), or is this port not a vpcd reader?',
        );
      }
      throw new VpcdInsertError(
        `cannot insert the card: nothing accepts connections at ${this.host}:${this.port} within ${timeoutMs} ms (${lastError || 'timeout'}); ` +
          'is pcscd running with the vpcd reader for this slot (ti-harness up --only cards)?',
      );
    } catch (e) {
      if (generation === this.generation) {
        this.detach();
        this.setState('removed');
      }
      throw e;
    }
  }

  /** Closes the connection (the card leaves the reader) and stops re-connecting. */
  async remove(): Promise<void> {
    this.generation++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      await closed;
    }
    this.setState('removed');
  }

  private connectOnce(timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.setTimeout(timeoutMs, () => fail(new Error(`connect timed out after ${timeoutMs} ms`)));
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        socket.setNoDelay(true);
        resolve(socket);
      });
    });
  }

  /**
   * Wires a connected socket to the card. Resolves 'polled' when vpcd sent its first
   * message within `confirmMs`, 'closed' when the connection closed before, else 'timeout'.
   */
  private attach(socket: net.Socket, generation: number, confirmMs: number): Promise<AttachOutcome> {
    this.socket = socket;
    this.stats.connects++;
    const decoder = new FrameDecoder(this.opts.maxPayload ?? MAX_FRAME_PAYLOAD);
    let confirm: ((outcome: AttachOutcome) => void) | undefined;
    const confirmed = new Promise<AttachOutcome>((resolve) => (confirm = resolve));
    const settle = (outcome: AttachOutcome) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      const c = confirm;
      confirm = undefined;
      c?.(outcome);
    };
    const timer = setTimeout(() => settle('timeout'), confirmMs);
    // pcscd answers a new card's presence poll by powering it up and reading the ATR;
    // only after that do PC/SC clients see the card. Wait for that (briefly).
    let graceTimer: NodeJS.Timeout | undefined;
    let sawPowerOn = false;
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        if (e instanceof FramingError) {
          this.log(`vpcd port ${this.port}: ${e.message}; dropping the connection`);
          socket.destroy();
          return;
        }
        throw e;
      }
      for (const frame of frames) {
        if (socket.destroyed) return;
        const reply = handleVpcdMessage(this.card, frame, (event) => this.onVpcdEvent(event));
        if (reply) {
          try {
            socket.write(encodeFrame(reply));
          } catch (e) {
            // only an ATR longer than 65535 bytes gets here: vpcd could not take it
            this.log(`vpcd port ${this.port}: ${(e as Error).message}; dropping the connection`);
            socket.destroy();
            return;
          }
        }
        if (!confirm) continue;
        if (frame.length === 1 && frame[0] === VpcdControl.POWER_ON) sawPowerOn = true;
        else if (frame.length === 1 && frame[0] === VpcdControl.GET_ATR && sawPowerOn) settle('polled');
        graceTimer ??= setTimeout(() => settle('polled'), this.opts.powerUpGraceMs ?? 1000);
      }
    });
    socket.on('error', (err) => this.log(`vpcd port ${this.port}: ${err.message}`));
    socket.on('close', () => {
      settle('closed');
      if (this.socket === socket) this.socket = undefined;
      if (generation !== this.generation || this._state !== 'inserted') return;
      if (this.opts.reconnect === false) {
        this.log(`vpcd port ${this.port}: connection closed by vpcd; the card is out`);
        this.setState('removed');
        return;
      }
      this.log(`vpcd port ${this.port}: connection closed by vpcd; re-connecting`);
      this.setState('reconnecting');
      this.scheduleReconnect(generation);
    });
    return confirmed;
  }

  private scheduleReconnect(generation: number): void {
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.opts.maxReconnectDelayMs ?? 2000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (generation !== this.generation) return;
      this.connectOnce(CONNECT_ATTEMPT_TIMEOUT_MS).then(
        (socket) => {
          if (generation !== this.generation) {
            socket.destroy();
            return;
          }
          this.log(`vpcd port ${this.port}: re-connected`);
          // After a reconnect the card counts as inserted at once; vpcd polls it shortly.
          this.setState('inserted');
          this.reconnectDelay = this.opts.reconnectDelayMs ?? 100;
          void this.attach(socket, generation, 0);
        },
        () => {
          if (generation === this.generation) this.scheduleReconnect(generation);
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private detach(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private onVpcdEvent(event: VpcdEvent): void {
    if (event.kind === 'atr') this.stats.atrRequests++;
    else if (event.kind === 'apdu') this.stats.apdus++;
    else if (event.kind === 'card-error') this.log(`vpcd port ${this.port}: card error: ${event.message}`);
    else if (event.kind === 'unknown-control') this.log(`vpcd port ${this.port}: unknown control code 0x${event.code.toString(16)} ignored`);
    this.opts.onEvent?.(event);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
