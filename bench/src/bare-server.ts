import Fastify from 'fastify';

/**
 * S0, the ceiling: Fastify (the version Nest's adapter uses) with one JSON route and nothing
 * else — no logger, no hooks. The body has the shape and size of `GET /v1/organization`'s.
 */
const BODY = {
  id: 'org_0193a1b2c3d4e5f60718293a4b5c',
  name: 'bench-org-1',
  tier: 'standard',
  stytch_organization_id: 'organization-test-0193a1b2-c3d4-e5f6-0718-293a4b5c6d7e',
  created_at: '2026-01-01T00:00:00.000Z',
};

const app = Fastify({ logger: false });
app.get('/', async () => BODY);
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
