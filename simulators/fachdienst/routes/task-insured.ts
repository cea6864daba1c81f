/**
 * The insured's side of the Task resource (gemSysL_eRp §3.5; issue 7): GET /Task/{id} for the insured
 * and, with X-AccessCode, for a representative; $abort by the insured. task.ts delegates here when the
 * caller's professionOID is the insured's (callerKind 'insured').
 */
import type { FhirRequest, FhirResponse, FhirRouteContext } from '../fhir-router';
import { FhirError } from '../outcome';
import type { TaskRecord } from '../store';

export async function getTaskForInsured(_req: FhirRequest, _ctx: FhirRouteContext): Promise<FhirResponse> {
  throw new FhirError(501, 'GET /Task/{id} for the insured is not implemented yet'); // ours (issue 7)
}

/** Called by task.ts after its common checks (task exists, not cancelled, not draft, not in-progress). */
export async function abortTaskByInsured(_req: FhirRequest, _ctx: FhirRouteContext, _task: TaskRecord): Promise<FhirResponse> {
  throw new FhirError(501, '$abort by the insured is not implemented yet'); // ours (issue 7)
}
