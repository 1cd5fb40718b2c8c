import { z } from 'zod';
import { serviceAccountBody } from '../../config/client-api.js';
import { clientListQuery, clientView, listFilters } from './clients.js';
import { adminRoute, pageOf, problemSchema, type AdminRoute } from './route.js';

/**
 * Service accounts (docs/clients.md): client_credentials clients for services and agents, made in
 * one call with a generated ES256 key pair (the private JWK returned once, never stored) or secret.
 */
const TAGS = ['service-accounts'] as const;

const created = z.object({
  client_id: z.string(),
  token_endpoint_auth_method: z.enum(['private_key_jwt', 'client_secret_basic']),
  scope: z.string(),
  resources: z.array(z.string()),
  owner: z.string().nullable(),
  description: z.string().nullable(),
  expires_at: z.string().nullable(),
  issuer: z.string(),
  token_endpoint: z.string().describe('Where the account gets its tokens (grant_type=client_credentials)'),
  assertion_audience: z.string().optional().describe('private_key_jwt: the aud of the client assertion (the issuer)'),
  private_jwk: z.record(z.string(), z.unknown()).optional().describe('private_key_jwt: the ES256 private key, shown this once and never stored'),
  client_secret: z.string().optional().describe('client_secret: shown this once'),
});

export const serviceAccountsRoutes: AdminRoute[] = [
  adminRoute({
    method: 'GET',
    path: '/service-accounts',
    scope: 'trusty:clients:read',
    summary: 'Service accounts, in client_id order, disabled ones too',
    tags: TAGS,
    query: clientListQuery.omit({ source: true }),
    responses: { 200: { description: 'A page of service accounts', schema: pageOf(clientView) } },
    async handler({ query, control }) {
      return { body: await control.serviceAccounts.list(listFilters(query)) };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/service-accounts',
    scope: 'trusty:clients:write',
    summary: 'Create a service account with a generated key pair (or secret): what it needs for its first token, shown once',
    tags: TAGS,
    body: serviceAccountBody,
    responses: {
      201: { description: 'The account and its credential (shown this once)', schema: created },
      400: { description: 'A field is wrong (named in field)', schema: problemSchema },
      403: { description: 'The scope or a role holds trusty: scopes and the caller does not hold trusty:admin', schema: problemSchema },
      409: { description: 'A client of that client_id exists', schema: problemSchema },
    },
    async handler({ body, actor, control, deps }) {
      const account = await control.serviceAccounts.create(actor, body);
      return { status: 201, body: account, headers: { location: `${deps.issuer}/admin/v1/clients/${encodeURIComponent(account.client_id)}` } };
    },
  }),
];
