import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from './document';

/** The document builder on its own: what it does with routes it has no description for. */

describe('buildOpenApiDocument', () => {
  it('lists a route it has no description for, with its path parameter, marked x-herald-undocumented', async () => {
    const doc = buildOpenApiDocument({
      routes: [
        { method: 'POST', path: '/api/push', name: 'push' },
        { method: 'GET', path: '/api/things/:thingId', name: 'thing' },
      ],
      openPushApi: false,
      version: '0.0.0',
    });
    const thing = doc.paths['/api/things/{thingId}']?.get;
    expect(thing).toMatchObject({ operationId: 'thing', 'x-herald-undocumented': true });
    expect(thing?.parameters).toEqual([{ name: 'thingId', in: 'path', required: true, schema: { type: 'string', minLength: 1 } }]);
    expect(doc.paths['/api/push']?.post?.['x-herald-undocumented']).toBeUndefined();
    // The probes are always there: they are served before the route table.
    expect(Object.keys(doc.paths)).toEqual(['/healthz', '/readyz', '/api/push', '/api/things/{thingId}']);
    expect((await validate(structuredClone(doc) as never)).valid).toBe(true);
  });

  it('says the push API is open only when it is', () => {
    const build = (openPushApi: boolean) =>
      buildOpenApiDocument({ routes: [{ method: 'POST', path: '/api/push', name: 'push' }], openPushApi, version: '0.0.0' }).paths['/api/push']?.post?.security;
    expect(build(false)).not.toContainEqual({});
    expect(build(true)).toContainEqual({});
  });
});
