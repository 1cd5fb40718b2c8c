import type { GrantType } from '../../domain/client.js';
import type { ClientEntryRules } from '../ports/client-entries.js';
import type { ClientKind, ClientRecord, RecordSource } from '../ports/repositories.js';
import { decodeKeyCursor, encodeKeyCursor, isoOf } from './paging.js';

/** What reads of clients show, and how their pages are addressed (ClientAdmin and ServiceAccountAdmin). */

export interface ClientListQuery {
  /** 1–200, default 50. */
  readonly limit?: number | undefined;
  /** The previous page's next_cursor. */
  readonly cursor?: string | undefined;
  readonly source?: RecordSource | undefined;
  readonly enabled?: boolean | undefined;
  readonly grantType?: GrantType | undefined;
  readonly clientIdPrefix?: string | undefined;
  readonly kind?: ClientKind | undefined;
}

/**
 * A client as reads show it: config.yaml's wire names (no secret, no digest) and the control
 * plane's fields. Times are ISO 8601.
 */
export type ClientView = Record<string, unknown> & {
  readonly client_id: string;
  readonly source: RecordSource;
  readonly kind: ClientKind;
  readonly enabled: boolean;
  readonly owner: string | null;
  readonly description: string | null;
  readonly expires_at: string | null;
  /** After a rotation: until when the previous secret is still accepted. */
  readonly previous_secret_expires_at: string | null;
  readonly created_at: string;
  readonly updated_at: string;
};

/** A write's answer: the client, and a secret the server generated (shown this once, never stored). */
export type ClientWithSecret = ClientView & { readonly client_secret?: string };

export function clientView(record: ClientRecord, rules: ClientEntryRules): ClientView {
  const { client } = record;
  return {
    ...rules.wireOf(client),
    client_id: client.clientId,
    source: record.source,
    kind: record.kind,
    enabled: record.enabled,
    owner: record.owner ?? null,
    description: record.description ?? null,
    expires_at: isoOf(client.expiresAt),
    previous_secret_expires_at: isoOf(client.previousSecret?.expiresAt),
    created_at: isoOf(record.createdAt)!,
    updated_at: isoOf(record.updatedAt)!,
  };
}

/** The wire form a PATCH merges into: config.yaml's fields and the admin ones that are set. */
export function editableOf(record: ClientRecord, rules: ClientEntryRules): Record<string, unknown> {
  return {
    ...rules.wireOf(record.client),
    ...(record.owner !== undefined ? { owner: record.owner } : {}),
    ...(record.description !== undefined ? { description: record.description } : {}),
    ...(record.client.expiresAt !== undefined ? { expires_at: isoOf(record.client.expiresAt) } : {}),
  };
}

/** An opaque cursor: the last client_id of the page. */
export const encodeClientCursor = encodeKeyCursor;

export function decodeClientCursor(cursor: string): string {
  return decodeKeyCursor(cursor, (clientId) => /^[A-Za-z0-9._:~-]{1,128}$/.test(clientId));
}
