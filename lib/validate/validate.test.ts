import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../tests/support/rng';
import { DEFAULT_ENTITY_TYPE, MAX_DATA_BYTES, MAX_RECIPIENTS_PER_PUSH, MAX_TTL_SECONDS } from '../contract';
import { PushBodySchema, ReceivedRequestSchema, SeenRequestSchema, describeIssues, parsePushBody, quickPushBody, toPushRequest, utf8Length } from '.';

/** The message describeIssues gives for a body, or undefined when it is valid. */
function problemOf(body: unknown): string | undefined {
  const parsed = PushBodySchema.safeParse(body);
  return parsed.success ? undefined : describeIssues(parsed.error);
}

/** What the server does with a body: parsePushBody (the quick check, else the schema). */
const ok = (body: unknown) => {
  const parsed = parsePushBody(body);
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

/**
 * Bodies near every edge PushBodySchema has, as JSON text: JSON.parse of it is
 * what the server validates. Infinity is written as 1e400 (which JSON.parse
 * reads as Infinity) and own "__proto__" keys as JSON.parse makes them.
 */
function generatedBody(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const chance = (p: number) => next() < p;
  const INF = '"@@inf@@"';
  const userId = (): unknown =>
    pick([
      () => `u${Math.floor(next() * 50)}`,
      () => pick(['Zoë', '用户', '😀', 'a b', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(129), `${'x'.repeat(126)}😀`, `${'x'.repeat(127)}😀`]),
      () => pick(['', 'a\u0000b', 'a\u001fb', 'a\u007fb', 'a\u0085b', 'a\u009fb', 'a\u00a0b', 'a\u2028b', 'a\u2029b', 'a\ud800b', '\udc00', 'a\tb']),
      () => pick([1, null, true, ['a'], { a: 1 }]),
    ])();
  const recipients = (): unknown => {
    if (chance(0.05)) return pick(['1', 1, null, {}]);
    const n = chance(0.03) ? pick([1000, 1001]) : pick([0, 1, 1, 2, 3, 5]);
    const clean = chance(0.6);
    return Array.from({ length: n }, (_, i) => (clean ? `u${i % 40}` : userId()));
  };
  const scalar = (): unknown =>
    pick([() => 'text', () => Math.floor(next() * 1000) - 500, () => next(), () => INF, () => true, () => null, () => '<b>x</b>', () => '😀\ud800'])();
  const tree = (depth: number): unknown => {
    if (depth <= 0 || chance(0.35)) return scalar();
    if (chance(0.5)) return Array.from({ length: Math.floor(next() * 3) }, () => tree(depth - 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 3); i > 0; i--) o[pick(['a', 'b', 'text', 'link', 'constructor', '__proto__x', '0', '10'])] = tree(depth - 1);
    if (chance(0.03)) Object.defineProperty(o, '__proto__', { value: tree(depth - 1), enumerable: true });
    return o;
  };
  const nested = (levels: number): unknown => {
    let v: unknown = scalar();
    for (let i = 0; i < levels; i++) v = chance(0.5) ? [v] : { k: v };
    return v;
  };
  const link = () =>
    pick(['https://example.test/p/1', 'http://example.test/', 'javascript:alert(1)', '/relative', 'https://u:p@example.test/', 5, `https://example.test/${'a'.repeat(2100)}`]);
  const data = (): unknown =>
    pick([
      () => tree(4),
      () => nested(pick([30, 31, 32, 33])),
      () => ({ text: 'liked your post', link: link() }),
      () => 'a'.repeat(pick([16_380, 16_382, 16_383])),
      () => 'é'.repeat(pick([8_190, 8_191, 8_192])),
      () => '€'.repeat(pick([5_460, 5_461, 5_462])),
      () => INF,
    ])();

  const body: Record<string, unknown> = {};
  const which = next();
  if (which < 0.8) body.tokens = recipients();
  else if (which < 0.93) body.userIds = recipients();
  else if (which < 0.97) {
    body.tokens = recipients();
    body.userIds = recipients();
  }
  if (chance(0.5)) body.entityType = pick(['like', 'comment.reply', 'a-b_c', '', 'x'.repeat(64), 'x'.repeat(65), 'new like', 'é', 5, null]);
  if (chance(0.6)) body.data = data();
  if (chance(0.3)) body.id = pick(['order-42.shipped:v1~x_y', '', 'x'.repeat(128), 'x'.repeat(129), 'a b', '../x', 'é', 7, null]);
  if (chance(0.2)) body.collapseKey = pick(['post-42:likes', '', 'x'.repeat(128), 'x'.repeat(129), 'a b', 'é', 7, null]);
  if (chance(0.1)) body.priority = pick(['normal', 'high', 'urgent', 'HIGH', 1, null]);
  if (chance(0.1)) body.ttl = pick([1, 60, MAX_TTL_SECONDS, 0, -5, 1.5, MAX_TTL_SECONDS + 1, '60', null, INF]);
  if (chance(0.04)) body[pick(['message', 'constructor', 'toString'])] = 1;
  if (chance(0.02)) Object.defineProperty(body, '__proto__', { value: {}, enumerable: true });
  let text = JSON.stringify(chance(0.02) ? pick([[body], 'body', 1, null]) : body);
  text = text.split(INF).join('1e400');
  return text;
}

describe('quickPushBody against PushBodySchema', () => {
  it('agrees with the schema on every generated body, and returns what the schema returns', () => {
    const next = seededRandom(20261127);
    let valid = 0;
    for (let i = 0; i < 4_000; i++) {
      const text = generatedBody(next);
      const quick = quickPushBody(JSON.parse(text));
      const schema = PushBodySchema.safeParse(JSON.parse(text));
      const context = `body #${i}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
      expect(quick !== undefined, context).toBe(schema.success);
      if (quick && schema.success) {
        valid++;
        // One clock reading for both, so a `ttl` gives both the same expiresAt.
        const now = Date.now();
        expect(toPushRequest(quick, now), context).toEqual(toPushRequest(schema.data, now));
      }
    }
    // Both verdicts are well represented, so the agreement says something.
    expect(valid).toBeGreaterThan(400);
    expect(valid).toBeLessThan(3_600);
  });

  it('leaves to the schema what JSON.parse never makes, and never accepts what the schema refuses', () => {
    const odd: unknown[] = [
      { tokens: ['1'], data: Infinity },
      { tokens: ['1'], data: [1, , 2] }, // eslint-disable-line no-sparse-arrays
      { tokens: ['1', , '2'] }, // eslint-disable-line no-sparse-arrays
      { tokens: ['1'], data: new Date(0) },
      { tokens: ['1'], data: { at: new Map() } },
      { tokens: ['1'], data: undefined },
      { tokens: ['1'], data: () => 1 },
      { tokens: ['1'], [Symbol('s')]: 1 },
      Object.assign(Object.create({ inherited: true }) as object, { tokens: ['1'] }),
      Object.assign(Object.create(null) as object, { tokens: ['1'] }),
      { tokens: ['1'], data: Object.assign(Object.create(null) as object, { a: 1 }) },
    ];
    for (const body of odd) {
      const quick = quickPushBody(body);
      if (quick !== undefined) expect(PushBodySchema.safeParse(body).success).toBe(true);
    }
    expect(quickPushBody({ tokens: ['1'], data: Infinity })).toBeUndefined();
    expect(PushBodySchema.safeParse({ tokens: ['1'], data: Infinity }).success).toBe(false);
  });

  it('is what parsePushBody uses first, with the schema writing every refusal', () => {
    expect(parsePushBody({ tokens: ['1'], data: { text: 'hi' } })).toEqual({ success: true, data: { tokens: ['1'], data: { text: 'hi' } } });
    const refused = parsePushBody({ tokens: [''] });
    expect(refused.success).toBe(false);
    if (!refused.success) expect(describeIssues(refused.error)).toBe('tokens[0]: must not be empty');
  });
});

describe('escalate', () => {
  it('defaults unless to read and keeps the seconds', () => {
    expect(ok({ tokens: ['1'], escalate: { after: 600 } }).escalate).toEqual({ after: 600, unless: 'read' });
    expect(ok({ tokens: ['1'], escalate: { after: 10, unless: 'seen' } }).escalate).toEqual({ after: 10, unless: 'seen' });
    expect(ok({ tokens: ['1'] }).escalate).toBeUndefined();
  });

  it.each([
    [{ after: 9 }, 'escalate.after: must be at least 10 seconds'],
    [{ after: 604_801 }, 'escalate.after: must be at most 604800 seconds'],
    [{ after: '60' }, 'escalate.after: must be a number of seconds'],
    [{ after: 60, unless: 'clicked' }, 'escalate.unless: must be "delivered", "seen" or "read"'],
  ])('refuses %j', (escalate, message) => {
    expect(problemOf({ tokens: ['1'], escalate })).toContain(message);
  });
});

describe('receipt events', () => {
  it('takes a seq as upTo, and 1..200 notification ids as seen', () => {
    expect(ReceivedRequestSchema.safeParse({ upTo: 0 }).success).toBe(true);
    expect(SeenRequestSchema.safeParse({ ids: ['a', 'b'] }).success).toBe(true);
  });

  it.each([{ upTo: -1 }, { upTo: 1.5 }, { upTo: '3' }, { upTo: 2 ** 53 }, {}, { upTo: 1, more: 1 }, null, [1]])('refuses received %j', (payload) => {
    expect(ReceivedRequestSchema.safeParse(payload).success).toBe(false);
  });

  it.each([{ ids: [] }, { ids: Array.from({ length: 201 }, (_, i) => `n${i}`) }, { ids: [1] }, { ids: ['a b'] }, { ids: 'a' }, {}])(
    'refuses seen %j',
    (payload) => {
      expect(SeenRequestSchema.safeParse(payload).success).toBe(false);
    },
  );
});
