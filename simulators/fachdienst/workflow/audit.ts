/**
 * AuditEvents of the workflow (A_18497, A_18526): every access to, status change of and deletion of a
 * prescription is recorded for the insured it belongs to (store.addAuditEvent; retrieval is issue 7).
 * Texts follow production's AuditEventId names (POST_Task_activate, POST_Task_accept, …).
 */
import type { AuthContext } from '../fhir-router';
import type { AuditEventRecord, FachdienstStore } from '../store';

export type AuditEventId =
  | 'POST_Task_activate'
  | 'POST_Task_accept'
  | 'POST_Task_reject'
  | 'POST_Task_dispense'
  | 'POST_Task_close'
  | 'POST_Task_abort_doctor'
  | 'POST_Task_abort_pharmacy'
  | 'GET_Task_id_pharmacy';

const ACTION: Record<AuditEventId, AuditEventRecord['action']> = {
  POST_Task_activate: 'U',
  POST_Task_accept: 'U',
  POST_Task_reject: 'U',
  POST_Task_dispense: 'U',
  POST_Task_close: 'U',
  POST_Task_abort_doctor: 'D',
  POST_Task_abort_pharmacy: 'D',
  GET_Task_id_pharmacy: 'R',
};

export function auditWorkflow(store: FachdienstStore, e: { event: AuditEventId; kvnr?: string; taskId: string; auth: AuthContext }): AuditEventRecord | undefined {
  if (!e.kvnr) return undefined; // drafts have no insured yet
  return store.addAuditEvent({
    kvnr: e.kvnr,
    taskId: e.taskId,
    action: ACTION[e.event],
    agentId: e.auth.idNumber,
    agentName: e.auth.displayName,
    agentOid: e.auth.professionOID,
    description: e.event,
    outcome: '0',
  });
}
