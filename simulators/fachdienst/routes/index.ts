/**
 * The route modules the Fachdienst serves, in registration order. The prescription workflow adds its
 * modules here (e.g. `taskRoutes` from ./task.ts); transport, authentication and routing stay untouched.
 */
import type { FhirRouteModule } from '../fhir-router';
import { metadataRoutes } from './metadata';
import { taskRoutes } from './task';
import { taskListRoutes } from './task-list';
import { medicationDispenseRoutes } from './medication-dispense';
import { auditEventRoutes } from './audit-event';
import { communicationRoutes } from './communication';

export const DEFAULT_ROUTE_MODULES: readonly FhirRouteModule[] = [metadataRoutes, taskRoutes, taskListRoutes, medicationDispenseRoutes, auditEventRoutes, communicationRoutes];
