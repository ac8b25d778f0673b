import { randomBytes } from 'node:crypto';
import type request from 'supertest';
import { CONTRACT_ERRORS } from './support/fuzz-oracle';
import {
  LinkedOrganization,
  OpenApiDocument,
  OpenApiSchema,
  RouteEntry,
  linkedOrganization,
  minimalBody,
  routeTable,
} from './support/matrix-organizations';
import { StytchFixture, hideStytchBaseUrlWarning } from './support/stytch-fixture';
import { Backend, TestApp, backends, bearer, startApp } from './support/test-app';
import { fastWebhooks } from './support/webhook-receiver';

/**
 * The cross-organization attack matrix, generated from the route table (GET /docs/openapi.json):
 * every path with `{id}` is organization-scoped. Organization B — with its API key, its admin's
 * dashboard session and a plain member's session — calls every such route and verb with the ids
 * of organization A's resources. Each call must be answered exactly as for an id that does not
 * exist (CONTRACT §4: 404 NOT_FOUND), and A's data must be untouched afterwards, as A reads it.
 */

beforeAll(hideStytchBaseUrlWarning);

type Http = ReturnType<typeof request>;
type Auth = { Authorization: string };

interface Credential {
  name: string;
  auth(): Promise<Auth>;
  /** Must get 404 NOT_FOUND on every documented route and verb (key, admin). A plain member may
   *  get 403 for a role it lacks, but exactly as for an unknown id. */
  strict: boolean;
}

/**
 * How to make one resource of each organization-scoped collection for an organization, through
 * the API with that organization's key. A new `{id}` route in the OpenAPI document under a
 * collection that is not here fails the suite until it is added.
 */
type Factory = (http: Http, auth: Auth, made: Record<string, string>) => Promise<{ id: string; secret?: string }>;

const FACTORIES: Record<string, Factory> = {
  '/v1/api-keys': async (http, auth) => {
    const body = (await created(http.post('/v1/api-keys').set(auth).send({ name: 'matrix target key' }))) as { id: string; key: string };
    return { id: body.id, secret: body.key };
  },
  '/v1/datasets': async (http, auth) => created(http.post('/v1/datasets').set(auth).send({ name: 'matrix dataset', description: 'private' })),
  '/v1/model-cards': async (http, auth) => created(http.post('/v1/model-cards').set(auth).send({ name: 'matrix card', data: { status: 'draft' } })),
  '/v1/compliance': async (http, auth) => created(http.post('/v1/compliance').set(auth).send({ name: 'matrix assessment', data: { framework: 'EU AI Act' } })),
  '/v1/certifications': async (http, auth) => created(http.post('/v1/certifications').set(auth).send({ name: 'matrix report', data: { level: 2 } })),
  '/v1/provenance': async (http, auth, made) => {
    const subject = made['/v1/datasets'] ?? (await FACTORIES['/v1/datasets'](http, auth, made)).id;
    return created(http.post('/v1/provenance').set(auth).send({ name: 'matrix origin', data: { source: 's3' }, subject: { type: 'dataset', id: subject } }));
  },
  // Port 9 (discard) and an event no request here causes: the endpoint never receives anything. Its
  // signing secret is not returned: `secret` here means the target API key's.
  '/v1/webhooks': async (http, auth) => ({
    id: (await created(http.post('/v1/webhooks').set(auth).send({ url: 'http://127.0.0.1:9/matrix', event_types: ['api_key.leaked'] }))).id,
  }),
  // Audit events are made by the changes above; an `{id}` route for them would read an existing one.
  '/v1/audit/events': async (http, auth) => {
    const events = await http.get('/v1/audit/events?limit=1').set(auth);
    expect(events.status).toBe(200);
    return { id: (events.body.data as Array<{ id: string }>)[0].id };
  },
};

/** Ids in request bodies that name another resource, and what they may name. */
const BODY_REFERENCES: Record<string, Array<{ body: (id: string) => object; collection: string }>> = {
  'POST /v1/provenance subject.id': [
    { collection: '/v1/datasets', body: (id) => ({ name: 'matrix reference', data: {}, subject: { type: 'dataset', id } }) },
    { collection: '/v1/model-cards', body: (id) => ({ name: 'matrix reference', data: {}, subject: { type: 'model_card', id } }) },
  ],
};

const VERBS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

async function created(call: request.Test): Promise<{ id: string }> {
  const response = await call;
  if (response.status !== 201) throw new Error(`could not create a resource: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { id: string };
}

/** The collection an organization-scoped path belongs to: `/v1/api-keys/{id}/rotate` → `/v1/api-keys`. */
function collectionOf(path: string): string {
  return path.slice(0, path.indexOf('/{'));
}

/** An id of the same kind and shape as `id` that no organization has. */
function unknownLike(id: string): string {
  const underscore = id.indexOf('_');
  const tail = id.slice(underscore + 1);
  return `${id.slice(0, underscore + 1)}${randomBytes(tail.length).toString('hex').slice(0, tail.length)}`;
}

/** Request-body properties that hold an id (`id`, `…_id`), as `METHOD path json.path`. */
function bodyReferences(document: OpenApiDocument, routes: RouteEntry[]): string[] {
  const found: string[] = [];
  const walk = (schema: OpenApiSchema | undefined, prefix: string, owner: string, depth: number) => {
    if (!schema || depth > 6) return;
    const resolved = schema.$ref ? document.components?.schemas?.[schema.$ref.split('/').pop()!] : schema;
    for (const [name, property] of Object.entries(resolved?.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (name === 'id' || name.endsWith('_id')) found.push(`${owner} ${path}`);
      walk(property, path, owner, depth + 1);
    }
  };
  for (const route of routes) {
    for (const [method, operation] of Object.entries(route.operations)) {
      walk(operation.requestBody?.content?.['application/json']?.schema, '', `${method} ${route.path}`, 0);
    }
  }
  return found;
}

interface Answer {
  status: number;
  code?: string;
  message?: string;
  errorFields: string[];
  headerNames: string[];
  text: string;
}

/** What a response reveals, with the id asked for blanked out of the message. */
function answerOf(response: request.Response, id: string): Answer {
  const error = response.body?.error as Record<string, unknown> | undefined;
  return {
    status: response.status,
    code: error?.code as string | undefined,
    message: typeof error?.message === 'string' ? error.message.split(id).join('{id}') : undefined,
    errorFields: error ? Object.keys(error).sort() : [],
    headerNames: Object.keys(response.headers).sort(),
    text: response.text ?? '',
  };
}

/**
 * Why an answer to a call with A's id gives something away or breaks the rule; `undefined` when it
 * is answered exactly as the same call with an unknown id, and as the rule says: 404 NOT_FOUND, or
 * at least no success (and no 405 on a documented verb; a plain member may meet 403 for its role).
 */
function betrayal(onA: Answer, onUnknown: Answer, rule: 'not found' | 'refused' | 'refused or not allowed', secrets: string[]): string | undefined {
  const reasons: string[] = [];
  if (rule === 'not found' && (onA.status !== 404 || onA.code !== 'NOT_FOUND')) reasons.push(`answered ${onA.status} ${onA.code ?? ''}, not 404 NOT_FOUND`);
  else if (onA.status < 300 || (rule === 'refused' && onA.status === 405)) reasons.push(`answered ${onA.status}`);
  if (onA.code && CONTRACT_ERRORS[onA.code] !== onA.status) reasons.push(`code ${onA.code} with status ${onA.status}`);
  for (const field of ['status', 'code', 'message', 'errorFields'] as const) {
    if (JSON.stringify(onA[field]) !== JSON.stringify(onUnknown[field])) {
      reasons.push(`${field} ${JSON.stringify(onA[field])} where an unknown id gets ${JSON.stringify(onUnknown[field])}`);
    }
  }
  const onlyA = onA.headerNames.filter((name) => !onUnknown.headerNames.includes(name));
  const onlyUnknown = onUnknown.headerNames.filter((name) => !onA.headerNames.includes(name));
  if (onlyA.length + onlyUnknown.length > 0) reasons.push(`headers differ: +${onlyA.join(',')} -${onlyUnknown.join(',')}`);
  if (secrets.some((secret) => secret && onA.text.includes(secret))) reasons.push('the answer names A');
  return reasons.length > 0 ? `${reasons.join('; ')} — body ${onA.text.slice(0, 160)}` : undefined;
}

describe.each(backends({ cluster: true }))('cross-organization matrix on $name', (backend: Backend) => {
  let fixture: StytchFixture;
  let target: TestApp;
  let document: OpenApiDocument;
  let routes: RouteEntry[];
  let scoped: RouteEntry[];
  let a: LinkedOrganization;
  let b: LinkedOrganization;
  /** A's resource id per collection, and the secret of A's target key. */
  const aIds: Record<string, string> = {};
  let aTargetKeySecret: string;
  let aBefore: unknown;
  let credentials: Credential[];
  const tally = { routeVerbs: 0, attacks: 0, otherVerbChecks: 0, listReads: 0, bodyReferences: 0 };

  const send = (method: string, path: string, auth: Auth, body?: unknown): request.Test => {
    const call = (target.http as unknown as Record<string, (url: string) => request.Test>)[method.toLowerCase()](path).set(auth);
    return body === undefined ? call : call.send(body as object);
  };

  /** Everything A can read about itself, all pages, minus what A's own reading changes. */
  const stateOf = async (organization: LinkedOrganization): Promise<unknown> => {
    const auth = bearer(organization.key);
    const state: Record<string, unknown> = { organization: (await target.http.get('/v1/organization').set(auth).expect(200)).body };
    for (const route of routes) {
      if (!route.methods.includes('GET') || route.path.includes('{') || !route.path.startsWith('/v1/') || route.path === '/v1/session' || route.path === '/v1/organization') continue;
      const rows: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page = await target.http.get(`${route.path}?limit=100${cursor ? `&cursor=${cursor}` : ''}`).set(auth);
        expect({ path: route.path, status: page.status }).toEqual({ path: route.path, status: 200 });
        rows.push(...(page.body.data as unknown[]));
        cursor = page.body.next_cursor as string | null;
      } while (cursor);
      state[route.path] = rows;
    }
    for (const [collection, id] of Object.entries(aIds)) {
      const route = scoped.find((entry) => entry.path === `${collection}/{id}` && entry.methods.includes('GET'));
      if (route) state[`${collection}/${id}`] = (await target.http.get(`${collection}/${id}`).set(auth)).body;
    }
    // last_used_at moves with A's own reads; everything else must hold still
    return JSON.parse(JSON.stringify(state), (key, value) => (key === 'last_used_at' ? '(ignored)' : value));
  };

  beforeAll(async () => {
    fixture = await StytchFixture.start();
    // the matrix sends a few hundred requests per credential; the limiter has its own suite
    target = await startApp(backend, { stytch: fixture.config, rateLimit: { max: 1_000_000, windowSeconds: 60 }, webhooks: fastWebhooks(randomBytes(32)) });
    document = (await target.http.get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
    routes = routeTable(document);
    scoped = routes.filter((route) => route.path.includes('{'));

    a = await linkedOrganization(target, fixture, 'Organization A');
    b = await linkedOrganization(target, fixture, 'Organization B');
    credentials = [
      { name: "B's API key", auth: async () => bearer(b.key), strict: true },
      { name: "B's admin session", auth: async () => bearer(await b.adminToken()), strict: true },
      { name: "B's member session", auth: async () => bearer(await b.memberToken()), strict: false },
    ];

    const made: Record<string, string> = {};
    for (const collection of [...new Set(scoped.map((route) => collectionOf(route.path)))]) {
      const factory = FACTORIES[collection];
      if (!factory) continue; // reported by the first test
      const resource = await factory(target.http, bearer(a.key), made);
      made[collection] = resource.id;
      if (resource.secret) aTargetKeySecret = resource.secret;
    }
    // Datasets and model cards also stand as provenance subjects, so both exist whatever the routes.
    for (const collection of ['/v1/datasets', '/v1/model-cards']) made[collection] ??= (await FACTORIES[collection](target.http, bearer(a.key), made)).id;
    Object.assign(aIds, made);
    aBefore = await stateOf(a);
  });

  afterAll(async () => {
    console.log(
      `cross-organization matrix on ${backend.name}: ${scoped.length} organization-scoped routes, ${tally.routeVerbs} route × verb pairs × ` +
        `${credentials.length} credentials = ${tally.attacks} attacks on A's ids (each also sent with an unknown id); ` +
        `${tally.otherVerbChecks} undocumented-verb checks, ${tally.listReads} list reads, ${tally.bodyReferences} body references`,
    );
    await target?.close();
    await fixture?.close();
  });

  it('knows how to make a resource for every organization-scoped route and body reference in the OpenAPI document', () => {
    expect(scoped.length).toBeGreaterThan(0);
    const unknownRoutes = scoped
      .filter((route) => !FACTORIES[collectionOf(route.path)] || route.path.replace(/\{id\}/g, '').includes('{'))
      .map((route) => `${route.methods.join(',')} ${route.path}`);
    const unknownReferences = bodyReferences(document, routes).filter((reference) => !BODY_REFERENCES[reference]);
    const complaints: string[] = [];
    if (unknownRoutes.length > 0) {
      complaints.push(
        `New organization-scoped route(s) in the OpenAPI document the cross-organization matrix cannot attack: ${unknownRoutes.join('; ')}. ` +
          'Add a factory for the collection (and a name for any path parameter other than {id}) to FACTORIES in test/cross-organization.e2e-spec.ts.',
      );
    }
    if (unknownReferences.length > 0) {
      complaints.push(`New id-bearing request-body field(s) the matrix does not attack: ${unknownReferences.join('; ')}. Add them to BODY_REFERENCES.`);
    }
    if (complaints.length > 0) throw new Error(complaints.join('\n'));
  });

  it("answers every organization-scoped route and verb with A's ids exactly as with an unknown id: 404 NOT_FOUND", async () => {
    const failures: string[] = [];
    for (const route of scoped) {
      const id = aIds[collectionOf(route.path)];
      if (!id) continue;
      for (const method of route.methods) {
        tally.routeVerbs += 1;
        const body = ['POST', 'PUT', 'PATCH'].includes(method) ? (minimalBody(document, route.operations[method]) ?? {}) : undefined;
        for (const credential of credentials) {
          tally.attacks += 1;
          const unknown = unknownLike(id);
          const onA = answerOf(await send(method, route.path.split('{id}').join(id), await credential.auth(), body), id);
          const onUnknown = answerOf(await send(method, route.path.split('{id}').join(unknown), await credential.auth(), body), unknown);
          const problem = betrayal(onA, onUnknown, credential.strict ? 'not found' : 'refused', [a.key, aTargetKeySecret, a.id]);
          if (problem) failures.push(`${method} ${route.path} with ${credential.name}: ${problem}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("answers verbs an organization-scoped route does not have the same for A's ids as for unknown ids", async () => {
    const failures: string[] = [];
    for (const route of scoped) {
      const id = aIds[collectionOf(route.path)];
      if (!id) continue;
      for (const method of VERBS.filter((verb) => !route.methods.includes(verb))) {
        for (const credential of credentials.filter((c) => c.strict)) {
          tally.otherVerbChecks += 1;
          const unknown = unknownLike(id);
          const body = method === 'GET' || method === 'DELETE' ? undefined : {};
          const onA = answerOf(await send(method, route.path.split('{id}').join(id), await credential.auth(), body), id);
          const onUnknown = answerOf(await send(method, route.path.split('{id}').join(unknown), await credential.auth(), body), unknown);
          const problem = betrayal(onA, onUnknown, 'refused or not allowed', [a.key, aTargetKeySecret, a.id]);
          if (problem) failures.push(`${method} ${route.path} with ${credential.name}: ${problem}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("never lets B name A's resources in a request body", async () => {
    const failures: string[] = [];
    for (const [reference, forms] of Object.entries(BODY_REFERENCES)) {
      const [method, path] = reference.split(' ');
      for (const form of forms) {
        const id = aIds[form.collection];
        for (const credential of credentials.filter((c) => c.strict)) {
          tally.bodyReferences += 1;
          const unknown = unknownLike(id);
          const onA = answerOf(await send(method, path, await credential.auth(), form.body(id)), id);
          const onUnknown = answerOf(await send(method, path, await credential.auth(), form.body(unknown)), unknown);
          const problem = betrayal(onA, onUnknown, 'not found', [a.key, aTargetKeySecret, a.id]);
          if (problem) failures.push(`${reference} = A's ${form.collection.slice(4)} id with ${credential.name}: ${problem}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("never shows A's ids in anything B lists, on any page or from any cursor", async () => {
    const aEvents = ((await target.http.get('/v1/audit/events?limit=100').set(bearer(a.key)).expect(200)).body.data as Array<{ id: string }>).map((event) => event.id);
    const aKeys = ((await target.http.get('/v1/api-keys?limit=100').set(bearer(a.key)).expect(200)).body.data as Array<{ id: string }>).map((key) => key.id);
    const identifiers = [...new Set([a.id, a.stytchOrganizationId, ...Object.values(aIds), ...aEvents, ...aKeys])];
    const failures: string[] = [];
    const lists = routes.filter((route) => route.methods.includes('GET') && !route.path.includes('{') && route.path.startsWith('/v1/'));
    expect(lists.length).toBeGreaterThan(0);
    for (const route of lists) {
      const takesCursor = (route.operations.GET.parameters ?? []).some((parameter) => parameter.name === 'cursor');
      const queries = ['', '?limit=100', ...(takesCursor ? identifiers.filter((id) => /^[a-z]+_[0-9a-f]{28}$/.test(id)).map((id) => `?limit=100&cursor=${id}`) : [])];
      for (const query of queries) {
        for (const credential of credentials) {
          tally.listReads += 1;
          const response = await target.http.get(`${route.path}${query}`).set(await credential.auth());
          if (response.status >= 500) failures.push(`GET ${route.path}${query} with ${credential.name}: ${response.status}`);
          const leaked = identifiers.filter((id) => response.text.includes(id));
          if (leaked.length > 0) failures.push(`GET ${route.path}${query} with ${credential.name} shows A's ${leaked.join(', ')}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("leaves A's data exactly as it was: every resource present, A's keys neither revoked nor rotated", async () => {
    expect(await stateOf(a)).toEqual(aBefore);
    for (const secret of [a.key, aTargetKeySecret]) {
      const response = await target.http.get('/v1/organization').set(bearer(secret));
      expect({ status: response.status, id: response.body.id }).toEqual({ status: 200, id: a.id });
    }
    const targetKey = await target.http.get(`/v1/api-keys/${aIds['/v1/api-keys']}`).set(bearer(a.key)).expect(200);
    expect(targetKey.body.revoked_at).toBeNull();
  });

  it("control: the same requests succeed on B's own resources, so the 404s above are about ownership", async () => {
    const failures: string[] = [];
    for (const route of scoped) {
      const collection = collectionOf(route.path);
      if (!FACTORIES[collection]) continue;
      for (const method of route.methods) {
        const body = ['POST', 'PUT', 'PATCH'].includes(method) ? (minimalBody(document, route.operations[method]) ?? {}) : undefined;
        for (const credential of credentials.filter((c) => c.strict)) {
          const own = await FACTORIES[collection](target.http, bearer(b.key), {});
          const response = await send(method, route.path.split('{id}').join(own.id), await credential.auth(), body);
          if (response.status >= 300) failures.push(`${method} ${route.path} on B's own resource with ${credential.name}: ${response.status} ${response.text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
