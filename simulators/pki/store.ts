/**
 * Status store of the simulated PKI: every certificate it issued, with its revocation status.
 *
 * Persistence is an append-only JSON-lines log (`certificates.jsonl` in the data dir): one event per line,
 * replayed on load, so issuing stays O(1) and status survives restarts. Other processes that share the
 * data dir (a test process issuing via loadOrCreatePki while the service answers OCSP) are picked up by
 * `refresh()`, which reads whatever was appended since the last read.
 */
import * as fs from 'node:fs';
import { normalizeSerialHex } from '../lib/x509';
import type { CaName } from './profiles';

export type CertificateStatus = 'good' | 'revoked';

export interface CertificateRecord {
  /** Lower-case hex, no leading zero bytes. */
  serialNumber: string;
  ca: CaName;
  profile: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  /** SHA-256 over the DER certificate, hex (the OCSP certHash). */
  certHash: string;
  status: CertificateStatus;
  revocationTime?: string;
  /** RFC 5280 CRLReason code. */
  revocationReason?: number;
}

type StoreEvent =
  | { op: 'issue'; record: CertificateRecord }
  | { op: 'status'; serialNumber: string; status: CertificateStatus; revocationTime?: string; revocationReason?: number };

export class CertificateStore {
  private readonly records = new Map<string, CertificateRecord>();
  private readOffset = 0;
  private partial = '';

  constructor(private readonly file: string) {
    this.refresh();
  }

  /** Read events appended to the log since the last read (by this or another process). */
  refresh(): void {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return;
    }
    if (size < this.readOffset) {
      // The log was replaced: start over.
      this.records.clear();
      this.readOffset = 0;
      this.partial = '';
    }
    if (size === this.readOffset) return;
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.readOffset);
      fs.readSync(fd, buf, 0, buf.length, this.readOffset);
      this.readOffset = size;
      const text = this.partial + buf.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.apply(JSON.parse(line) as StoreEvent);
        } catch {
          // A corrupt line (e.g. a crash mid-write) is skipped; the rest of the log stays usable.
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private apply(ev: StoreEvent): void {
    if (ev.op === 'issue') {
      this.records.set(ev.record.serialNumber, { ...ev.record });
    } else if (ev.op === 'status') {
      const r = this.records.get(ev.serialNumber);
      if (!r) return;
      r.status = ev.status;
      r.revocationTime = ev.status === 'revoked' ? ev.revocationTime : undefined;
      r.revocationReason = ev.status === 'revoked' ? ev.revocationReason : undefined;
    }
  }

  private append(ev: StoreEvent): void {
    this.refresh();
    const line = `${JSON.stringify(ev)}\n`;
    fs.appendFileSync(this.file, line);
    this.apply(ev);
    // Our own write is now part of what we have read (unless another process appended concurrently,
    // in which case the next refresh() re-reads the gap; events are idempotent).
    try {
      const size = fs.statSync(this.file).size;
      if (size === this.readOffset + Buffer.byteLength(line)) this.readOffset = size;
    } catch {
      /* ignore */
    }
  }

  has(serialHex: string): boolean {
    return this.records.has(normalizeSerialHex(serialHex));
  }

  get(serialHex: string): CertificateRecord | undefined {
    this.refresh();
    const r = this.records.get(normalizeSerialHex(serialHex));
    return r ? { ...r } : undefined;
  }

  add(record: CertificateRecord): void {
    this.append({ op: 'issue', record });
  }

  setStatus(serialHex: string, status: CertificateStatus, revocationTime?: Date, revocationReason?: number): CertificateRecord {
    const serialNumber = normalizeSerialHex(serialHex);
    this.refresh();
    if (!this.records.has(serialNumber)) throw new Error(`unknown certificate serial ${serialNumber}`);
    this.append({
      op: 'status',
      serialNumber,
      status,
      revocationTime: status === 'revoked' ? (revocationTime ?? new Date()).toISOString() : undefined,
      revocationReason: status === 'revoked' ? revocationReason : undefined,
    });
    return { ...(this.records.get(serialNumber) as CertificateRecord) };
  }

  list(): CertificateRecord[] {
    this.refresh();
    return Array.from(this.records.values(), (r) => ({ ...r }));
  }

  get size(): number {
    return this.records.size;
  }
}
