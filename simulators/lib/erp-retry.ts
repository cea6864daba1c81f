/**
 * The production retry rules of a client system (PVS, AVS) towards the E-Rezept-Fachdienst, in one
 * place. Facts: api-erp ("Retry gemäß Exponential Backoff ist zulässig" for 503/504; 429 Too Many
 * Requests with Retry-After), RFC 9110 (408 Request Timeout: the server did not finish receiving
 * the request, a client may repeat it; Retry-After in seconds or as an HTTP date).
 *
 * Rules:
 *   - 408, 429, 503: the request was not processed → any method may be sent again.
 *   - 500, 502, 504 and transport errors: the outcome is unknown → only idempotent requests
 *     (GET/HEAD, and operations the caller declares idempotent) are sent again; a POST that changed
 *     state is not repeated blindly (a repeated $activate/$accept would be refused with a 403/409
 *     naming the current status, A_18825/A_18826/A_18747).
 *   - Backoff: `baseDelayMs · 2^attempt` (capped by `maxDelayMs`), or the server's Retry-After when it
 *     is given (also capped); at most `maxRetries` repetitions.
 * Everything else (2xx, 4xx other than 408/429) is returned at once.
 *
 * This sits above simulators/lib/vau-client.ts, which already repeats what the VAU transport itself
 * makes safe (an outer "vau decryption failed", outer 429/503/504 for GET); these rules look at the
 * inner FHIR status the Fachdienst answered.
 */

/** Inner status codes after which the request was not processed. */
export const RETRY_ANY_METHOD = [408, 429, 503] as const;
/** Inner status codes after which the outcome is unknown: idempotent requests only. */
export const RETRY_IDEMPOTENT_ONLY = [500, 502, 504] as const;

export interface ErpRetryPolicy {
  /** Repetitions after the first attempt (default 3). */
  maxRetries: number;
  /** First backoff (default 250 ms). */
  baseDelayMs: number;
  /** Upper bound of one wait, also for Retry-After (default 10 s). */
  maxDelayMs: number;
  /** Waits (default setTimeout; tests pass a recorder). */
  sleep: (ms: number) => Promise<void>;
  /** Clock for Retry-After given as an HTTP date (ms). */
  now: () => number;
}

export const DEFAULT_ERP_RETRY: ErpRetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: Date.now,
};

/** What the retry logic needs to know of an answer. */
export interface RetryableResponse {
  status: number;
  headers: Record<string, string>;
}

export interface ErpRetryAttempt<R> {
  response?: R;
  error?: unknown;
  attempt: number;
  delayMs: number;
}

/** Whether an answer with `status` may be repeated for a request of this kind. */
export function isRetryableStatus(status: number, idempotent: boolean): boolean {
  if ((RETRY_ANY_METHOD as readonly number[]).includes(status)) return true;
  return idempotent && (RETRY_IDEMPOTENT_ONLY as readonly number[]).includes(status);
}

/** Retry-After (delta-seconds or HTTP date) in ms, undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * Runs `send` and repeats it by the rules above. `idempotent`: GET/HEAD or an operation without
 * side effects when repeated. `isTransportError` says which thrown errors are connection problems
 * (repeated for idempotent requests only); other errors are thrown at once. `onRetry` sees every
 * repetition (for logs and tests).
 */
export async function withErpRetry<R extends RetryableResponse>(
  send: () => Promise<R>,
  opts: { idempotent: boolean; policy?: Partial<ErpRetryPolicy>; isTransportError?: (e: unknown) => boolean; onRetry?: (a: ErpRetryAttempt<R>) => void },
): Promise<R> {
  const p: ErpRetryPolicy = { ...DEFAULT_ERP_RETRY, ...opts.policy };
  for (let attempt = 0; ; attempt++) {
    let response: R;
    try {
      response = await send();
    } catch (e) {
      if (attempt < p.maxRetries && opts.idempotent && opts.isTransportError?.(e)) {
        const delayMs = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
        opts.onRetry?.({ error: e, attempt, delayMs });
        await p.sleep(delayMs);
        continue;
      }
      throw e;
    }
    if (attempt >= p.maxRetries || !isRetryableStatus(response.status, opts.idempotent)) return response;
    const after = retryAfterMs(response.headers['retry-after'], p.now());
    const delayMs = Math.min(p.maxDelayMs, after ?? p.baseDelayMs * 2 ** attempt);
    opts.onRetry?.({ response, attempt, delayMs });
    await p.sleep(delayMs);
  }
}
