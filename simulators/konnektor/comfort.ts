/**
 * Comfort signature (Komfortsignatur) state machine of the signature service.
 *
 * Facts (gemSpec_Kon V5.18.0 4.1.8.1.5 and gematik's poc-komfortsignatur API documentation):
 * - The function is configured in the Konnektor (SAK_COMFORT_SIGNATURE, default Disabled in
 *   delivery state); the simulator enables it by default, as a test Konnektor is set up.
 * - ActivateComfortSignature (CardHandle of an HBA, Context with UserId) needs one PIN.QES entry;
 *   afterwards SignDocument calls of the same HBA card session and UserId are signed without
 *   PIN entry until one of: the maximum number of signatures (SAK_COMFORT_SIGNATURE_MAX, at most
 *   250 — the schema's SIG:CountType and the HBA's SSEC limit per PIN entry) is reached; the
 *   timer (SAK_COMFORT_SIGNATURE_TIMER) expires; DeactivateComfortSignature; the HBA is
 *   removed; the HBA's security state is reset; the administrator disables the function.
 * - A_18686-01 / A_19100-01: counter and timer per HBA card session; at the limit no further
 *   jobs are accepted and the HBA's security state is reset.
 * - A_20073-01: the UserId must be a UUID (RFC 4122, 128 bit), else error 4272.
 * - A_20074: a UserId used within the previous 1000 activations (counted across all call
 *   contexts) is refused with error 4270.
 * - A_22344 / A_22352 / A_22459: at least two parallel sessions per HBA (one per UserId), with
 *   independent counters and timers.
 * - Vendor manuals describe the usual limits as "up to 250 documents within 24 hours"; the
 *   defaults here are 250 signatures and 24 h (configurable).
 *
 * Sessions are keyed by card handle + UserId: a card handle names one card session, so a
 * removed and re-inserted HBA (new handle) never inherits a session.
 */
export const COMFORT_MAX_SIGNATURES_LIMIT = 250;
export const COMFORT_DEFAULT_MAX_SIGNATURES = 250;
export const COMFORT_DEFAULT_TIMER_MS = 24 * 60 * 60 * 1000;
export const COMFORT_USER_ID_HISTORY = 1000;

/** RFC 4122 UUID in its canonical textual form (any version/variant, 128 bit). */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isStrongUserId(userId: string | undefined): boolean {
  return typeof userId === 'string' && UUID.test(userId) && !/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(userId);
}

export interface ComfortConfig {
  /** SAK_COMFORT_SIGNATURE. */
  enabled: boolean;
  /** SAK_COMFORT_SIGNATURE_MAX (1..250). */
  maxSignatures: number;
  /** SAK_COMFORT_SIGNATURE_TIMER in milliseconds. */
  timerMs: number;
}

export type ComfortEndReason = 'count' | 'timer' | 'deactivated' | 'card-removed' | 'security-state-reset' | 'disabled';

export interface ComfortSession {
  cardHandle: string;
  userId: string;
  activatedAt: number;
  expiresAt: number;
  remaining: number;
}

/** Why an activation was refused: code is the gematik error code. */
export class ComfortError extends Error {
  override name = 'ComfortError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** gematik error codes of the comfort signature (texts: see docs/konnektor.md). */
export const COMFORT_ERRORS = {
  userIdReused: 4270,
  userIdNotAllowed: 4272,
} as const;

export interface ComfortOptions {
  config?: Partial<ComfortConfig>;
  /** The harness clock (ms since epoch). */
  now?: () => number;
  /** Called when a session ends (e.g. to reset the HBA's security state). */
  onEnd?: (session: ComfortSession, reason: ComfortEndReason) => void;
}

export class ComfortSignatures {
  readonly config: ComfortConfig;
  private readonly now: () => number;
  private readonly sessions = new Map<string, ComfortSession>();
  private readonly usedUserIds: string[] = [];
  private readonly usedSet = new Set<string>();
  private readonly listeners: Array<(s: ComfortSession, r: ComfortEndReason) => void> = [];

  constructor(opts: ComfortOptions = {}) {
    this.config = {
      enabled: opts.config?.enabled ?? true,
      maxSignatures: opts.config?.maxSignatures ?? COMFORT_DEFAULT_MAX_SIGNATURES,
      timerMs: opts.config?.timerMs ?? COMFORT_DEFAULT_TIMER_MS,
    };
    const m = this.config.maxSignatures;
    if (!Number.isInteger(m) || m < 1 || m > COMFORT_MAX_SIGNATURES_LIMIT) {
      throw new RangeError(`comfort signature maximum must be 1..${COMFORT_MAX_SIGNATURES_LIMIT}, got ${m}`);
    }
    if (!(this.config.timerMs > 0)) throw new RangeError(`comfort signature timer must be positive, got ${this.config.timerMs}`);
    this.now = opts.now ?? Date.now;
    if (opts.onEnd) this.listeners.push(opts.onEnd);
  }

  onEnd(listener: (s: ComfortSession, r: ComfortEndReason) => void): void {
    this.listeners.push(listener);
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Administrator switch (SAK_COMFORT_SIGNATURE); disabling ends every session. */
  setEnabled(enabled: boolean): void {
    this.config.enabled = enabled;
    if (!enabled) for (const s of [...this.sessions.values()]) this.end(s, 'disabled');
  }

  /**
   * First step of ActivateComfortSignature, before the PIN entry: checks the UserId (4272) and
   * its reuse (4270) and records it as used. Throws ComfortError.
   */
  checkActivation(userId: string | undefined): string {
    if (!isStrongUserId(userId)) {
      throw new ComfortError(COMFORT_ERRORS.userIdNotAllowed, `UserId "${userId ?? ''}" is not a UUID (RFC 4122) as A_20073-01 requires`);
    }
    const id = (userId as string).toLowerCase();
    if (this.usedSet.has(id)) {
      throw new ComfortError(COMFORT_ERRORS.userIdReused, `UserId ${userId} was used within the previous ${COMFORT_USER_ID_HISTORY} activations (A_20074)`);
    }
    this.usedUserIds.push(id);
    this.usedSet.add(id);
    while (this.usedUserIds.length > COMFORT_USER_ID_HISTORY) this.usedSet.delete(this.usedUserIds.shift() as string);
    return id;
  }

  /** Second step, after PIN.QES was verified: the session starts (a running one is replaced). */
  activate(cardHandle: string, userId: string): ComfortSession {
    const key = keyOf(cardHandle, userId);
    const old = this.sessions.get(key);
    if (old) this.end(old, 'deactivated');
    const t = this.now();
    const s: ComfortSession = { cardHandle, userId: userId.toLowerCase(), activatedAt: t, expiresAt: t + this.config.timerMs, remaining: this.config.maxSignatures };
    this.sessions.set(key, s);
    return s;
  }

  /** The live session for handle + UserId (expired ones end here, with reason 'timer'). */
  session(cardHandle: string, userId: string | undefined): ComfortSession | undefined {
    if (!userId) return undefined;
    const s = this.sessions.get(keyOf(cardHandle, userId));
    if (!s) return undefined;
    if (this.now() >= s.expiresAt) {
      this.end(s, 'timer');
      return undefined;
    }
    return s;
  }

  /**
   * Reserves `n` comfort signatures for one SignDocument call. Returns the session when the
   * whole batch fits (count and time); the counter is decremented at once. When the session
   * cannot take the batch, nothing is reserved and undefined is returned (the call then needs
   * a PIN entry). A session whose counter reaches 0 ends after the batch (`release`).
   */
  reserve(cardHandle: string, userId: string | undefined, n: number): ComfortSession | undefined {
    if (!this.config.enabled) return undefined;
    const s = this.session(cardHandle, userId);
    if (!s || n < 1 || s.remaining < n) return undefined;
    s.remaining -= n;
    return s;
  }

  /** After a comfort batch: ends the session when the counter is used up. */
  release(s: ComfortSession): void {
    if (s.remaining <= 0 && this.sessions.get(keyOf(s.cardHandle, s.userId)) === s) this.end(s, 'count');
  }

  /** Ends every session of the card (DeactivateComfortSignature, card removed, security reset). */
  endCard(cardHandle: string, reason: ComfortEndReason): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.cardHandle === cardHandle) {
        this.end(s, reason);
        n++;
      }
    }
    return n;
  }

  /** Ends one session. */
  endSession(s: ComfortSession, reason: ComfortEndReason): void {
    if (this.sessions.get(keyOf(s.cardHandle, s.userId)) === s) this.end(s, reason);
  }

  /** Remaining time of a session in ms (0 when expired). */
  timeRemaining(s: ComfortSession): number {
    return Math.max(0, s.expiresAt - this.now());
  }

  /** All live sessions (expired ones are ended first). */
  list(): ComfortSession[] {
    for (const s of [...this.sessions.values()]) this.session(s.cardHandle, s.userId);
    return [...this.sessions.values()];
  }

  private end(s: ComfortSession, reason: ComfortEndReason): void {
    this.sessions.delete(keyOf(s.cardHandle, s.userId));
    for (const l of this.listeners) {
      try {
        l(s, reason);
      } catch {
        // a listener must not break the state machine
      }
    }
  }
}

function keyOf(cardHandle: string, userId: string): string {
  return `${cardHandle}\u0000${userId.toLowerCase()}`;
}

/** xsd:duration for a number of milliseconds, e.g. PT23H59M58.000S (as the poc documentation shows). */
export function xsdDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const milli = total % 1000;
  return `PT${h}H${m}M${s}.${String(milli).padStart(3, '0')}S`;
}
