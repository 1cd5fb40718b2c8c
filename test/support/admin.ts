import { basic, postForm } from './flow.js';
import type { TestServer } from './server.js';

/** The secret of the admin clients adminClientEntry declares. */
export const ADMIN_SECRET = 'admin-bot-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** A config.yaml client for the management API: client_credentials with `scope` (trusty:admin by default). */
export function adminClientEntry(scope = 'trusty:admin', id = 'admin-bot') {
  return { client_id: id, client_secret: ADMIN_SECRET, grant_types: ['client_credentials'], scope };
}

/** A client_credentials access token of an admin client declared with adminClientEntry. */
export async function adminToken(server: TestServer, id = 'admin-bot', scope?: string): Promise<string> {
  const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) }, { authorization: basic(id, ADMIN_SECRET) });
  if (response.status !== 200) throw new Error(`admin token: ${response.status} ${JSON.stringify(response.json)}`);
  return (response.json as { access_token: string }).access_token;
}

export interface AdminResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** Calls the management API (path relative to /admin/v1) with a Bearer token and a JSON body. */
export async function adminFetch(server: TestServer, token: string | undefined, method: string, path: string, body?: unknown): Promise<AdminResult> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.issuer}/admin/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
