import type { AdminRoute } from './route.js';
import { usersRoutes } from './users.js';
import { sessionsRoutes } from './sessions.js';
import { tokensRoutes } from './tokens.js';
import { rolesRoutes } from './roles.js';
import { clientsRoutes } from './clients.js';
import { serviceAccountsRoutes } from './service-accounts.js';
import { auditRoutes } from './audit.js';
import { keysRoutes } from './keys.js';

/** Every operation of the management API, one resource file each; the OpenAPI document lists them in this order. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...clientsRoutes,
  ...serviceAccountsRoutes,
  ...rolesRoutes,
  ...auditRoutes,
  ...keysRoutes,
  ...usersRoutes,
  ...sessionsRoutes,
  ...tokensRoutes,
];
