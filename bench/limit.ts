/**
 * The irreducible work of each scenario on bare Fastify + jose: what a server that does only
 * the necessary parsing, one digest compare or signature check, and one signature reaches.
 * bench/run.ts reports it beside Trusty and the reference, so the distance to the limit shows.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import fastifyFormbody from '@fastify/formbody';
import Fastify from 'fastify';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';

const config = JSON.parse(process.env.LIMIT_CONFIG ?? '{}') as {
  port: number;
  issuer: string;
  secret: string;
  clientJwk: JWK;
  signingJwk: JWK & { kid: string };
  resource: string;
  discovery: string;
};
const digest = (value: string) => createHash('sha256').update(value).digest();
const secretDigest = digest(config.secret);
const signingKey = await importJWK(config.signingJwk, 'ES256');
const { d: _d, ...publicJwk } = config.signingJwk as JWK & { d?: string };
const verifyKey = await importJWK(publicJwk, 'ES256');
const clientKeys = createLocalJWKSet({ keys: [config.clientJwk] });
const seen = new Set<string>();
// Trusty's own document (bench/run.ts swaps in this server's issuer): the same bytes to write.
const discovery = config.discovery;

function basicClient(header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':');
  return id !== undefined && secret !== undefined && timingSafeEqual(digest(decodeURIComponent(secret)), secretDigest) ? decodeURIComponent(id) : undefined;
}

function accessToken(clientId: string, scope: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: clientId, scope })
    .setProtectedHeader({ alg: 'ES256', kid: config.signingJwk.kid, typ: 'at+jwt' })
    .setIssuer(config.issuer)
    .setSubject(clientId)
    .setAudience(config.resource)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(randomUUID())
    .sign(signingKey);
}

const app = Fastify({ logger: false });
await app.register(fastifyFormbody);
app.post('/token', async (request, reply) => {
  const body = request.body as Record<string, string>;
  let clientId = basicClient(request.headers.authorization);
  if (clientId === undefined && body.client_assertion !== undefined) {
    const { payload } = await jwtVerify(body.client_assertion, clientKeys, { audience: config.issuer, algorithms: ['ES256'] });
    if (seen.has(payload.jti!)) return reply.code(401).send({ error: 'invalid_client' });
    seen.add(payload.jti!);
    clientId = payload.iss!;
  }
  if (clientId === undefined) return reply.code(401).send({ error: 'invalid_client' });
  return reply.header('cache-control', 'no-store').send({ access_token: await accessToken(clientId, body.scope ?? ''), token_type: 'Bearer', expires_in: 600 });
});
app.post('/introspect', async (request, reply) => {
  if (basicClient(request.headers.authorization) === undefined) return reply.code(401).send({ error: 'invalid_client' });
  try {
    const { payload } = await jwtVerify((request.body as Record<string, string>).token!, verifyKey, { issuer: config.issuer });
    return reply.header('cache-control', 'no-store').send({ active: true, ...payload });
  } catch {
    return reply.send({ active: false });
  }
});
app.get('/.well-known/openid-configuration', (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(discovery));
await app.listen({ port: config.port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
