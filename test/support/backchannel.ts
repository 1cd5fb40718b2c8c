import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A logout token as a relying party's back channel received it. */
export interface Delivery {
  readonly path: string;
  readonly logoutToken: string;
}

/**
 * A real HTTP listener playing relying parties' back channels (OIDC Back-Channel Logout §2.5):
 * `${url}/<client_id>` as each one's backchannel_logout_uri; every POST is recorded and answered 200.
 */
export async function startBackchannel(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const listener = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      deliveries.push({ path: request.url ?? '', logoutToken: new URLSearchParams(body).get('logout_token') ?? '' });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`,
    deliveries,
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
}
