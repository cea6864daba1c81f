/**
 * The Task state machine of the E-Rezept-Fachdienst (gemSysL_eRp TAB_SYSLERP_006, gemSpec_FD_eRp):
 * which operation moves a Task from which status to which, and who may do it. One table; the route
 * handlers ask it and throw the production refusal it names (A_18522: the error names the current status).
 *
 *   operation  from                      to           actor
 *   $create    (none)                    draft        prescriber
 *   $activate  draft                     ready        prescriber
 *   $accept    ready                     in-progress  pharmacy
 *   $reject    in-progress               ready        pharmacy
 *   $dispense  in-progress               in-progress  pharmacy
 *   $close     in-progress               completed    pharmacy
 *   $abort     ready                     cancelled    prescriber
 *   $abort     ready, completed          cancelled    insured (169/209: completed only; issue 7)
 *   $abort     in-progress               cancelled    pharmacy
 */
import type { TaskStatus } from '../store';

export type WorkflowOperation = 'create' | 'activate' | 'accept' | 'reject' | 'dispense' | 'close' | 'abort';
export type WorkflowActor = 'prescriber' | 'pharmacy' | 'insured';

export interface Transition {
  operation: WorkflowOperation;
  from: readonly TaskStatus[] | 'none';
  to: TaskStatus;
  actor: WorkflowActor;
}

export const TRANSITIONS: readonly Transition[] = [
  { operation: 'create', from: 'none', to: 'draft', actor: 'prescriber' },
  { operation: 'activate', from: ['draft'], to: 'ready', actor: 'prescriber' },
  { operation: 'accept', from: ['ready'], to: 'in-progress', actor: 'pharmacy' },
  { operation: 'reject', from: ['in-progress'], to: 'ready', actor: 'pharmacy' },
  { operation: 'dispense', from: ['in-progress'], to: 'in-progress', actor: 'pharmacy' },
  { operation: 'close', from: ['in-progress'], to: 'completed', actor: 'pharmacy' },
  { operation: 'abort', from: ['ready'], to: 'cancelled', actor: 'prescriber' },
  { operation: 'abort', from: ['ready', 'completed'], to: 'cancelled', actor: 'insured' },
  { operation: 'abort', from: ['in-progress'], to: 'cancelled', actor: 'pharmacy' },
];

/** The transition an actor may take from a status with an operation, if any. */
export function transitionFor(operation: WorkflowOperation, from: TaskStatus, actor: WorkflowActor): Transition | undefined {
  return TRANSITIONS.find((t) => t.operation === operation && t.actor === actor && t.from !== 'none' && t.from.includes(from));
}

export function isAllowedTransition(operation: WorkflowOperation, from: TaskStatus, actor: WorkflowActor): boolean {
  return transitionFor(operation, from, actor) !== undefined;
}

/** Target status of an operation for an actor (independent of the current status). */
export function targetStatus(operation: WorkflowOperation, actor: WorkflowActor): TaskStatus {
  const t = TRANSITIONS.find((x) => x.operation === operation && x.actor === actor);
  if (!t) throw new Error(`no transition ${operation} for ${actor}`);
  return t.to;
}
