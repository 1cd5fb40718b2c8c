import { GRANT_TYPES } from '../../domain/client.js';
import { ClientLabels } from './client-labels.js';
import type { Sample, ScrapedMetric } from './scraped.js';

const KNOWN_GRANTS: ReadonlySet<string> = new Set(GRANT_TYPES);

/**
 * trusty_tokens_issued_total{grant_type,client_id}, from the audit log's token.issued events:
 * one per successful token response (its access token, with whatever refresh and ID token came
 * along). Kept as plain numbers (one is added on every token request): three Map lookups.
 * Series: (client_labels + 16) × 3 grant types at most.
 */
export class TokensIssued implements ScrapedMetric {
  readonly name = 'trusty_tokens_issued_total';
  readonly help = 'Token responses, by grant type and client (client_id="other-<n>": a hashed bucket beyond metrics.client_labels clients)';
  readonly type = 'counter';
  private readonly labels: ClientLabels;
  private readonly byClient = new Map<string, Map<string, { value: number }>>();

  constructor(clientLabels: number) {
    this.labels = new ClientLabels(clientLabels);
  }

  count(clientId: string | undefined, grantType: unknown): void {
    const client = this.labels.of(clientId ?? '');
    const grant = typeof grantType === 'string' && KNOWN_GRANTS.has(grantType) ? grantType : 'other';
    let grants = this.byClient.get(client);
    if (grants === undefined) {
      grants = new Map();
      this.byClient.set(client, grants);
    }
    const counted = grants.get(grant);
    if (counted === undefined) grants.set(grant, { value: 1 });
    else counted.value++;
  }

  samples(): Sample[] {
    const samples: Sample[] = [];
    for (const [client, grants] of this.byClient) {
      for (const [grant, counted] of grants) samples.push({ labels: { grant_type: grant, client_id: client }, value: counted.value });
    }
    return samples;
  }
}
