/**
 * Harness-only admin API of the PKI simulator (JSON, under /__admin):
 *
 *   GET  /__admin/health
 *   GET  /__admin/profiles
 *   POST /__admin/certificates                  issue a certificate (body: AdminIssueRequest)
 *   GET  /__admin/certificates/:serial          status record
 *   POST /__admin/certificates/:serial/revoke   { reason?, time? }
 *   POST /__admin/certificates/:serial/reinstate
 *
 * Errors: 400/404 with { error, message }.
 */
import * as crypto from 'node:crypto';
import { ADMIN_PATH } from '../lib/ports';
import { HttpError, json, type Route } from '../lib/http';
import { type Pki } from './hierarchy';
import { PROFILES, ProfileError, REVOCATION_REASONS, type IssueRequest, type RevocationReasonName, type SubjectFields } from './profiles';

/** JSON body of POST /__admin/certificates. */
export interface AdminIssueRequest {
  profile: string;
  subject?: SubjectFields;
  telematikId?: string;
  professionOid?: string;
  professionItem?: string;
  kvnr?: string;
  iknr?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: string;
  notAfter?: string;
  validityDays?: number;
  status?: 'good' | 'revoked';
  revocationReason?: RevocationReasonName | number;
  revocationTime?: string;
  /** Certify this public key (SPKI PEM) instead of generating a key pair. */
  publicKeyPem?: string;
}

/** Reply of POST /__admin/certificates. */
export interface AdminIssueResponse {
  certificatePem: string;
  /** PKCS#8 PEM; absent when publicKeyPem was given. */
  privateKeyPem?: string;
  issuerPem: string;
  /** Issuer … root. */
  chainPem: string[];
  serialNumber: string;
  ocspUrl: string;
  profile: string;
  ca: string;
  telematikId?: string;
  kvnr?: string;
  notBefore: string;
  notAfter: string;
  status: 'good' | 'revoked';
  revocationTime?: string;
  revocationReason?: number;
}

const SUBJECT_KEYS: Array<keyof SubjectFields> = [
  'commonName',
  'givenName',
  'surname',
  'organization',
  'organizationalUnit',
  'serialNumber',
  'country',
  'locality',
  'postalCode',
  'street',
  'title',
];

const bad = (message: string, code = 'invalid_request') => new HttpError(400, message, code);

function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${key} must be a string`);
  return v;
}

function optStringArray(body: Record<string, unknown>, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`${key} must be an array of strings`);
  return v as string[];
}

/** Validates the JSON body and turns it into an IssueRequest. */
export function toIssueRequest(raw: unknown): IssueRequest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const profile = body.profile;
  if (typeof profile !== 'string' || !profile) throw bad('profile is required (e.g. "C.HP.QES")');
  if (!Object.prototype.hasOwnProperty.call(PROFILES, profile)) {
    throw bad(`unknown profile "${profile}" (known: ${Object.keys(PROFILES).join(', ')})`, 'unknown_profile');
  }
  const req: IssueRequest = { profile };
  if (body.subject !== undefined && body.subject !== null) {
    if (typeof body.subject !== 'object' || Array.isArray(body.subject)) throw bad('subject must be an object');
    const s = body.subject as Record<string, unknown>;
    const unknown = Object.keys(s).filter((k) => !SUBJECT_KEYS.includes(k as keyof SubjectFields));
    if (unknown.length) throw bad(`unknown subject field(s) ${unknown.join(', ')} (known: ${SUBJECT_KEYS.join(', ')})`);
    const subject: SubjectFields = {};
    for (const k of SUBJECT_KEYS) {
      const v = s[k];
      if (v === undefined || v === null) continue;
      if (k === 'organizationalUnit' && Array.isArray(v)) {
        subject.organizationalUnit = optStringArray(s, k);
      } else if (typeof v === 'string') {
        (subject as Record<string, string>)[k] = v;
      } else {
        throw bad(`subject.${k} must be a string`);
      }
    }
    req.subject = subject;
  }
  req.telematikId = optString(body, 'telematikId');
  req.professionOid = optString(body, 'professionOid');
  if (req.professionOid !== undefined && !/^\d+(\.\d+)+$/.test(req.professionOid)) throw bad(`professionOid is not an OID: "${req.professionOid}"`);
  req.professionItem = optString(body, 'professionItem');
  req.kvnr = optString(body, 'kvnr');
  req.iknr = optString(body, 'iknr');
  req.dnsNames = optStringArray(body, 'dnsNames');
  req.ipAddresses = optStringArray(body, 'ipAddresses');
  req.notBefore = optString(body, 'notBefore');
  req.notAfter = optString(body, 'notAfter');
  req.revocationTime = optString(body, 'revocationTime');
  if (body.validityDays !== undefined) {
    if (typeof body.validityDays !== 'number') throw bad('validityDays must be a number');
    req.validityDays = body.validityDays;
  }
  if (body.status !== undefined) {
    if (body.status !== 'good' && body.status !== 'revoked') throw bad('status must be "good" or "revoked"');
    req.status = body.status;
  }
  if (body.revocationReason !== undefined) {
    if (typeof body.revocationReason !== 'string' && typeof body.revocationReason !== 'number') {
      throw bad(`revocationReason must be one of ${Object.keys(REVOCATION_REASONS).join(', ')} or a CRLReason code`);
    }
    req.revocationReason = body.revocationReason as RevocationReasonName | number;
  }
  const publicKeyPem = optString(body, 'publicKeyPem');
  if (publicKeyPem) {
    try {
      req.publicKey = crypto.createPublicKey(publicKeyPem);
    } catch (e) {
      throw bad(`publicKeyPem is not a public key: ${(e as Error).message}`);
    }
  }
  for (const k of Object.keys(req) as Array<keyof IssueRequest>) if (req[k] === undefined) delete req[k];
  return req;
}

function wrapProfileErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProfileError) throw bad(e.message);
    if (e instanceof Error && /^unknown certificate serial/.test(e.message)) throw new HttpError(404, e.message, 'unknown_certificate');
    if (e instanceof Error && /^not a hex serial number/.test(e.message)) throw bad(e.message, 'invalid_serial');
    throw e;
  }
}

export function adminRoutes(pki: Pki, info: () => Record<string, unknown> = () => ({})): Route[] {
  const base = ADMIN_PATH;
  return [
    {
      method: 'GET',
      path: `${base}/health`,
      handler: () =>
        json(200, {
          status: 'ok',
          service: 'pki',
          root: pki.root.parsed.subject,
          certificates: pki.store.list().length,
          ...info(),
        }),
    },
    {
      method: 'GET',
      path: `${base}/profiles`,
      handler: () =>
        json(
          200,
          Object.values(PROFILES).map((p) => ({
            name: p.name,
            description: p.description,
            ca: p.ca,
            keyUsage: p.keyUsage,
            extKeyUsage: p.extKeyUsage,
            policies: p.policies,
            admissionRole: p.admissionRole,
          })),
        ),
    },
    {
      method: 'POST',
      path: `${base}/certificates`,
      maxBodyBytes: 64 * 1024,
      handler: (ctx) => {
        const request = toIssueRequest(ctx.json());
        const issued = wrapProfileErrors(() => pki.issue(request));
        const reply: AdminIssueResponse = {
          certificatePem: issued.certificatePem,
          privateKeyPem: issued.privateKeyPem,
          issuerPem: issued.issuerPem,
          chainPem: issued.chainPem,
          serialNumber: issued.serialNumber,
          ocspUrl: issued.ocspUrl,
          profile: issued.profile,
          ca: issued.ca,
          telematikId: issued.telematikId,
          kvnr: issued.kvnr,
          notBefore: issued.record.notBefore,
          notAfter: issued.record.notAfter,
          status: issued.record.status,
          revocationTime: issued.record.revocationTime,
          revocationReason: issued.record.revocationReason,
        };
        return json(201, reply);
      },
    },
    {
      method: 'GET',
      path: `${base}/certificates/:serial`,
      handler: (ctx) => {
        const record = wrapProfileErrors(() => pki.status(ctx.params.serial));
        if (!record) throw new HttpError(404, `unknown certificate serial ${ctx.params.serial}`, 'unknown_certificate');
        return json(200, record);
      },
    },
    {
      method: 'POST',
      path: `${base}/certificates/:serial/revoke`,
      maxBodyBytes: 16 * 1024,
      handler: (ctx) => {
        const body = (ctx.body.length ? ctx.json() : {}) as Record<string, unknown>;
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('request body must be a JSON object');
        const reason = body.reason as RevocationReasonName | number | undefined;
        if (reason !== undefined && typeof reason !== 'string' && typeof reason !== 'number') throw bad('reason must be a string or a number');
        const time = optString(body, 'time');
        const when = time ? new Date(time) : undefined;
        if (when && Number.isNaN(when.getTime())) throw bad(`time is not a valid date: ${time}`);
        return json(200, wrapProfileErrors(() => pki.revoke(ctx.params.serial, reason, when)));
      },
    },
    {
      method: 'POST',
      path: `${base}/certificates/:serial/reinstate`,
      handler: (ctx) => json(200, wrapProfileErrors(() => pki.reinstate(ctx.params.serial))),
    },
  ];
}
