/** Helpers of the AVS tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveEnvironment } from '../../../simulators/lib/config';
import type { VauRequestOptions, VauResponse } from '../../../simulators/lib/vau-client';
import { Avs, type AvsOptions, type FachdienstTransport } from '../../../simulators/avs/avs';

export const PHARMACY = 'Apotheke am Markt';
export const PHARMACIST = 'Katrin Schäfer';

export interface RecordedRequest {
  method: string;
  target: string;
  opts: VauRequestOptions;
}

/** A scripted Fachdienst: answers each request with the next reply; records what the AVS sent. */
export class ScriptedFachdienst implements FachdienstTransport {
  readonly requests: RecordedRequest[] = [];
  constructor(private readonly replies: Array<(req: RecordedRequest) => { status: number; body?: string; headers?: Record<string, string> }>) {}
  async request(method: string, target: string, opts: VauRequestOptions = {}): Promise<VauResponse> {
    const req = { method, target, opts };
    this.requests.push(req);
    const next = this.replies.shift();
    if (!next) throw new Error(`unexpected request ${method} ${target}`);
    const r = next(req);
    const body = Buffer.from(r.body ?? '', 'utf8');
    const headers = { 'content-type': 'application/fhir+xml;charset=utf-8', ...(r.headers ?? {}) };
    return { status: r.status, headers, body, text: () => body.toString('utf8'), outer: { status: 200, headers: {} } };
  }
}

/** An AVS that never reaches a Konnektor or Fachdienst (scan, builders). */
export function offlineAvs(opts: Partial<AvsOptions> = {}): Promise<Avs> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'avs-offline-'));
  const env = resolveEnvironment({ name: 'avs-offline', dataDir: tmp, services: {} } as never, path.join(tmp, 'avs-offline.yaml'));
  return Avs.create({
    env,
    pharmacy: PHARMACY,
    konnektor: { url: 'https://127.0.0.1:9', ca: '', context: { mandantId: 'M', clientSystemId: 'C', workplaceId: 'W' } },
    fachdienst: new ScriptedFachdienst([]),
    ...opts,
  });
}

/** OperationOutcome XML as the Fachdienst answers it. */
export function outcomeXml(code: string, text: string): string {
  return `<OperationOutcome xmlns="http://hl7.org/fhir"><meta><profile value="http://hl7.org/fhir/StructureDefinition/OperationOutcome"/></meta><issue><severity value="error"/><code value="${code}"/><details><text value="${text}"/></details></issue></OperationOutcome>`;
}
