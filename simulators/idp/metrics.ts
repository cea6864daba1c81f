/**
 * Performance data of the IDP (A_18993), as Prometheus text exposition (GET /metrics):
 *
 *   idp_requests_total{operation,outcome}                 every endpoint call (outcome success | error)
 *   idp_operation_duration_seconds{operation}             histogram of the server-side processing time
 *   idp_challenge_response_duration_seconds{outcome}      processing of a signed challenge (decrypt, verify,
 *                                                         TSL/OCSP check: the IDP's part of challenge-response)
 *   idp_authenticator_response_seconds                    challenge issued → signed challenge received
 *                                                         (the Authentisierungsmodul's signing time)
 *   idp_consent_wait_seconds                              consent_required answered → consent received
 *                                                         (the Authentisierungsmodul's consent response time)
 *   idp_tokens_issued_total{user_type}                    tokens issued at the token endpoint, insured (eGK)
 *                                                         separate from Leistungserbringer (SMC-B/HBA)
 *   idp_token_issuance_duration_seconds{user_type}        histogram of the token issuance
 *
 * Durations are wall-clock (performance.now), not the simulated clock: they measure work, not validity.
 * No label carries a user attribute (A_18859).
 */

export type IdpOperation =
  | 'discovery'
  | 'jwks'
  | 'authorization_request'
  | 'signed_challenge'
  | 'consent'
  | 'sso'
  | 'token'
  | 'end_session'
  | 'revocation'
  | 'introspection';

export type UserType = 'insured' | 'lei';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    const v = Number.isFinite(seconds) && seconds >= 0 ? seconds : 0;
    this.sum += v;
    this.count++;
    BUCKETS.forEach((b, i) => {
      if (v <= b) this.counts[i]++;
    });
  }

  lines(name: string, labels: string): string[] {
    const join = (extra: string) => `{${[labels, extra].filter(Boolean).join(',')}}`;
    return [
      ...BUCKETS.map((b, i) => `${name}_bucket${join(`le="${b}"`)} ${this.counts[i]}`),
      `${name}_bucket${join('le="+Inf"')} ${this.count}`,
      `${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`,
      `${name}_count${labels ? `{${labels}}` : ''} ${this.count}`,
    ];
  }
}

class Family {
  private readonly series = new Map<string, Histogram>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  /** Publishes a series with zero observations (so a scraper sees it before the first event). */
  declare(labels: string): this {
    if (!this.series.has(labels)) this.series.set(labels, new Histogram());
    return this;
  }
  observe(labels: string, seconds: number): void {
    let h = this.series.get(labels);
    if (!h) this.series.set(labels, (h = new Histogram()));
    h.observe(seconds);
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [labels, h] of [...this.series].sort(([a], [b]) => a.localeCompare(b))) out.push(...h.lines(this.name, labels));
    return out;
  }
}

class Counter {
  private readonly series = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  /** Publishes a series at 0 (so a scraper sees it before the first event). */
  declare(labels: string): this {
    if (!this.series.has(labels)) this.series.set(labels, 0);
    return this;
  }
  inc(labels: string): void {
    this.series.set(labels, (this.series.get(labels) ?? 0) + 1);
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [labels, v] of [...this.series].sort(([a], [b]) => a.localeCompare(b))) out.push(`${this.name}${labels ? `{${labels}}` : ''} ${v}`);
    return out;
  }
}

export class IdpMetrics {
  private readonly requests = new Counter('idp_requests_total', 'IDP endpoint calls by operation and outcome.');
  private readonly durations = new Family('idp_operation_duration_seconds', 'Server-side processing time per IDP operation.');
  private readonly challengeResponse = new Family(
    'idp_challenge_response_duration_seconds',
    'Processing of a signed challenge (decryption, signature, TSL and OCSP check) by outcome.',
  );
  private readonly authenticator = new Family(
    'idp_authenticator_response_seconds',
    'Time from issuing a challenge to receiving it signed (Authentisierungsmodul response time).',
  ).declare('');
  private readonly consentWait = new Family(
    'idp_consent_wait_seconds',
    'Time from the consent_required answer to the consent (Authentisierungsmodul consent response time).',
  ).declare('');
  // Insured and Leistungserbringer series exist from the start: they are reported separately (A_18993).
  private readonly tokens = new Counter('idp_tokens_issued_total', 'Tokens issued at the token endpoint: insured (eGK) vs. Leistungserbringer (SMC-B, HBA).')
    .declare('user_type="insured"')
    .declare('user_type="lei"');
  private readonly tokenDurations = new Family('idp_token_issuance_duration_seconds', 'Token issuance time by user type.')
    .declare('user_type="insured"')
    .declare('user_type="lei"');

  request(operation: IdpOperation, outcome: 'success' | 'error', seconds: number): void {
    this.requests.inc(`operation="${operation}",outcome="${outcome}"`);
    this.durations.observe(`operation="${operation}"`, seconds);
  }

  signedChallenge(outcome: 'success' | 'error', seconds: number): void {
    this.challengeResponse.observe(`outcome="${outcome}"`, seconds);
  }

  authenticatorResponse(seconds: number): void {
    this.authenticator.observe('', seconds);
  }

  consentResponse(seconds: number): void {
    this.consentWait.observe('', seconds);
  }

  tokenIssued(userType: UserType, seconds: number): void {
    this.tokens.inc(`user_type="${userType}"`);
    this.tokenDurations.observe(`user_type="${userType}"`, seconds);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    return `${[
      ...this.requests.render(),
      ...this.durations.render(),
      ...this.challengeResponse.render(),
      ...this.authenticator.render(),
      ...this.consentWait.render(),
      ...this.tokens.render(),
      ...this.tokenDurations.render(),
    ].join('\n')}\n`;
  }
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Start times of pending waits (challenge → signed challenge, consent_required → consent), bounded. */
export class PendingTimers {
  private readonly started = new Map<string, number>();
  constructor(private readonly max = 10_000) {}
  start(id: string): void {
    if (this.started.size >= this.max) this.started.delete(this.started.keys().next().value as string);
    this.started.set(id, performance.now());
  }
  /** Seconds since start(id), or undefined when unknown; forgets the id. */
  stop(id: string): number | undefined {
    const t = this.started.get(id);
    if (t === undefined) return undefined;
    this.started.delete(id);
    return (performance.now() - t) / 1000;
  }
}
