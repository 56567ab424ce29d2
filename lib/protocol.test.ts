import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENTITY_TYPE,
  MAX_DATA_BYTES,
  MAX_RECIPIENTS_PER_PUSH,
  PushBodySchema,
  describeIssues,
  toPushRequest,
  utf8Length,
} from './protocol';

/** The message describeIssues gives for a body, or undefined when it is valid. */
function problemOf(body: unknown): string | undefined {
  const parsed = PushBodySchema.safeParse(body);
  return parsed.success ? undefined : describeIssues(parsed.error);
}

const ok = (body: unknown) => {
  const parsed = PushBodySchema.safeParse(body);
  if (!parsed.success) throw new Error(`expected a valid body, got: ${describeIssues(parsed.error)}`);
  return toPushRequest(parsed.data);
};

describe('PushBodySchema', () => {
  describe('accepts', () => {
    it('the README example', () => {
      expect(ok({ tokens: ['1', '2'], entityType: 'like', data: 'You shall not pass!!!' })).toEqual({
        userIds: ['1', '2'],
        entityType: 'like',
        data: 'You shall not pass!!!',
      });
    });

    it('userIds as an alias of tokens', () => {
      expect(ok({ userIds: ['7'] }).userIds).toEqual(['7']);
    });

    it(`exactly ${MAX_RECIPIENTS_PER_PUSH} recipients`, () => {
      const ids = Array.from({ length: MAX_RECIPIENTS_PER_PUSH }, (_, i) => `u${i}`);
      expect(ok({ tokens: ids }).userIds).toHaveLength(MAX_RECIPIENTS_PER_PUSH);
    });

    it('a 128-character user id and unicode user ids', () => {
      expect(ok({ tokens: ['x'.repeat(128), 'Zoë', '用户'] }).userIds).toHaveLength(3);
    });

    it('data of exactly the maximum size in UTF-8 bytes', () => {
      const data = 'a'.repeat(MAX_DATA_BYTES - 2); // the quotes make it exactly MAX_DATA_BYTES
      expect(utf8Length(JSON.stringify(data))).toBe(MAX_DATA_BYTES);
      expect(ok({ tokens: ['1'], data }).data).toBe(data);
    });

    it('any JSON value as data', () => {
      for (const data of [null, 0, true, [], {}, [1, { a: ['b'] }], '<img src=x onerror=alert(1)>']) {
        expect(ok({ tokens: ['1'], data }).data).toEqual(data);
      }
    });

    it('a client-chosen id', () => {
      expect(ok({ tokens: ['1'], id: 'order-42.shipped:v1~x_y' }).id).toBe('order-42.shipped:v1~x_y');
    });
  });

  describe('rejects, naming the field', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['a body that is not an object', ['1'], /must be a JSON object/],
      ['null', null, /must be a JSON object/],
      ['missing tokens', { entityType: 'like' }, /^tokens: is required/],
      ['an empty recipients array', { tokens: [] }, /^tokens: must name at least one user/],
      ['tokens that is not an array', { tokens: '1' }, /^tokens: /],
      [
        `${MAX_RECIPIENTS_PER_PUSH + 1} recipients`,
        { tokens: Array.from({ length: MAX_RECIPIENTS_PER_PUSH + 1 }, (_, i) => `u${i}`) },
        /^tokens: must name at most 1000 users/,
      ],
      ['a numeric user id', { tokens: ['1', 2] }, /^tokens\[1\]: must be a string/],
      ['a null user id', { tokens: [null] }, /^tokens\[0\]: must be a string/],
      ['an empty user id', { tokens: [''] }, /^tokens\[0\]: must not be empty/],
      ['a 129-character user id', { tokens: ['x'.repeat(129)] }, /^tokens\[0\]: must be at most 128 characters/],
      ['a NUL in a user id', { tokens: ['a\u0000b'] }, /^tokens\[0\]: must not contain control characters/],
      ['a newline in a user id', { tokens: ['a\nb'] }, /^tokens\[0\]: must not contain control characters/],
      ['a tab in a user id', { tokens: ['a\tb'] }, /control characters/],
      ['DEL in a user id', { tokens: ['a\u007fb'] }, /control characters/],
      ['a C1 control in a user id', { tokens: ['a\u0085b'] }, /control characters/],
      ['a line separator in a user id', { tokens: ['a\u2028b'] }, /^tokens\[0\]: must not contain control characters/],
      ['a paragraph separator in a user id', { tokens: ['a\u2029b'] }, /control characters/],
      ['a bad id in userIds', { userIds: ['ok', ''] }, /^userIds\[1\]: must not be empty/],
      ['both tokens and userIds', { tokens: ['1'], userIds: ['2'] }, /^userIds: give either `tokens` or `userIds`, not both/],
      ['an unknown field', { tokens: ['1'], message: 'hi' }, /unknown field\(s\): message/],
      ['an entityType with a space', { tokens: ['1'], entityType: 'new like' }, /^entityType: may contain only/],
      ['an empty entityType', { tokens: ['1'], entityType: '' }, /^entityType: must not be empty/],
      ['a numeric entityType', { tokens: ['1'], entityType: 5 }, /^entityType: must be a string/],
      ['an entityType over 64 characters', { tokens: ['1'], entityType: 'x'.repeat(65) }, /^entityType: must be at most 64/],
      ['an entityType with markup', { tokens: ['1'], entityType: '<b>' }, /^entityType: /],
      ['an id with a space', { tokens: ['1'], id: 'a b' }, /^id: may contain only/],
      ['an id with a slash', { tokens: ['1'], id: '../etc' }, /^id: may contain only/],
      ['an empty id', { tokens: ['1'], id: '' }, /^id: must not be empty/],
      ['a numeric id', { tokens: ['1'], id: 42 }, /^id: must be a string/],
      ['an id over 128 characters', { tokens: ['1'], id: 'x'.repeat(129) }, /^id: must be at most 128/],
    ];
    it.each(cases)('%s', (_name, body, expected) => {
      const problem = problemOf(body);
      expect(problem).toBeDefined();
      expect(problem).toMatch(expected);
    });

    it('data over 16 KiB in UTF-8 bytes even when it has fewer characters', () => {
      const data = '€'.repeat(6000); // 6000 characters, 18000 bytes
      expect(JSON.stringify(data).length).toBeLessThan(MAX_DATA_BYTES);
      expect(problemOf({ tokens: ['1'], data })).toMatch(/^data: must serialize to at most 16384 bytes/);
    });

    it('data one byte over the limit', () => {
      const data = 'a'.repeat(MAX_DATA_BYTES - 1);
      expect(problemOf({ tokens: ['1'], data })).toMatch(/^data: /);
    });

    it('data nested in an object over the limit', () => {
      expect(problemOf({ tokens: ['1'], data: { text: 'é'.repeat(9000) } })).toMatch(/^data: /);
    });

    it('data with an own "__proto__" key, at any depth, as JSON.parse makes it', () => {
      const top = JSON.parse('{"tokens":["1"],"data":{"__proto__":{"x":1}}}') as unknown;
      expect(problemOf(top)).toBe('data: must not contain a "__proto__" key (it cannot be delivered as sent)');
      const deep = JSON.parse('{"tokens":["1"],"data":[{"a":{"b":{"__proto__":null}}}]}') as unknown;
      expect(problemOf(deep)).toMatch(/^data: must not contain a "__proto__" key/);
      // Keys that only look like it are data.
      expect(problemOf({ tokens: ['1'], data: { __proto__x: 1, proto: { constructor: 2 } } })).toBeUndefined();
    });

    it('data that is not JSON', () => {
      expect(problemOf({ tokens: ['1'], data: () => 1 })).toMatch(/^data: /);
      expect(problemOf({ tokens: ['1'], data: { at: new Date() } })).toMatch(/^data/);
    });
  });
});

describe('toPushRequest', () => {
  it('defaults entityType to message and data to null', () => {
    expect(ok({ tokens: ['1'] })).toEqual({ userIds: ['1'], entityType: DEFAULT_ENTITY_TYPE, data: null });
    expect(DEFAULT_ENTITY_TYPE).toBe('message');
  });

  it('de-duplicates recipients, keeping the first order', () => {
    expect(ok({ tokens: ['2', '1', '2', '3', '1'] }).userIds).toEqual(['2', '1', '3']);
    expect(ok({ userIds: ['9', '9'] }).userIds).toEqual(['9']);
  });

  it('keeps the id only when given', () => {
    expect('id' in ok({ tokens: ['1'] })).toBe(false);
    expect(ok({ tokens: ['1'], id: 'abc' }).id).toBe('abc');
  });

  it('keeps falsy data as given', () => {
    expect(ok({ tokens: ['1'], data: 0 }).data).toBe(0);
    expect(ok({ tokens: ['1'], data: false }).data).toBe(false);
    expect(ok({ tokens: ['1'], data: '' }).data).toBe('');
  });
});

describe('describeIssues', () => {
  it('joins several problems, each with its field', () => {
    const problem = problemOf({ tokens: ['', 'ok'], entityType: 'a b' });
    expect(problem).toContain('tokens[0]: must not be empty');
    expect(problem).toContain('entityType: may contain only');
    expect(problem).toContain('; ');
  });

  it('reports at most five problems', () => {
    const problem = problemOf({ tokens: ['', '', '', '', '', '', ''] }) ?? '';
    expect(problem.split('; ')).toHaveLength(5);
  });
});
