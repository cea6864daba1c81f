/**
 * Recent OCSP requests the PKI service answered (harness-only, GET /__admin/ocsp/requests): lets a
 * scenario see that a relying party — e.g. the IDP (A_18819) — asked the PKI about a certificate.
 * A bounded ring buffer in memory; serial numbers and statuses only, no requester identity.
 */
import { parseOcspRequest, parseOcspResponse } from '../lib/ocsp';

export interface OcspLogEntry {
  /** ISO time the request was answered (system time). */
  at: string;
  method: 'POST' | 'GET';
  /** Lower-case hex serial numbers asked for. */
  serials: string[];
  /** Status per serial as answered (good | revoked | unknown), or the responseStatus for error answers. */
  statuses: string[];
}

export class OcspRequestLog {
  private readonly entries: OcspLogEntry[] = [];

  constructor(private readonly max = 1000) {}

  record(method: 'POST' | 'GET', request: Buffer, response: Buffer): void {
    let serials: string[] = [];
    let statuses: string[] = [];
    try {
      serials = parseOcspRequest(request).requests.map((r) => r.serialNumber);
    } catch {
      serials = [];
    }
    try {
      const rsp = parseOcspResponse(response);
      statuses = rsp.responseStatus === 'successful' ? rsp.responses.map((r) => r.certStatus) : [rsp.responseStatus];
    } catch {
      statuses = ['unparsable'];
    }
    this.entries.push({ at: new Date().toISOString(), method, serials, statuses });
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
  }

  /** Entries oldest first, optionally only those asking for `serial` and/or answered at or after `since`. */
  list(filter: { serial?: string; since?: Date } = {}): OcspLogEntry[] {
    const serial = filter.serial?.toLowerCase().replace(/^0+(?=.)/, '');
    return this.entries.filter(
      (e) => (!serial || e.serials.some((s) => s.replace(/^0+(?=.)/, '') === serial)) && (!filter.since || new Date(e.at) >= filter.since),
    );
  }

  clear(): number {
    const n = this.entries.length;
    this.entries.length = 0;
    return n;
  }
}
