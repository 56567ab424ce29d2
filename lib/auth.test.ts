import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearerOf, checkPushKey, keysEqual, signUserToken, verifyUserToken } from './auth';
import { AuthError } from './errors';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs512-0123456789abcdefghij';
const OTHER_SECRET = 'another-secret-that-is-long-enough-for-hs512-0123456789abcdefghij';
const key = (s: string) => new TextEncoder().encode(s);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The AuthError code a verification fails with; throws if it succeeds. */
function refusal(token: unknown, secret = SECRET): string {
  let err: unknown;
  try {
    const ok = verifyUserToken(secret, token);
    err = new Error(`expected the token to be refused, but it verified as ${JSON.stringify(ok)}`);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AuthError);
  return (err as AuthError).code;
}

describe('user tokens', () => {
  it('round-trips: a signed token verifies to its user and expiry', async () => {
    const now = nowSeconds();
    const token = await signUserToken(SECRET, 'user-7', 3600, now);
    expect(verifyUserToken(SECRET, token)).toEqual({ userId: 'user-7', exp: now + 3600 });
  });

  it('signs HS256 with sub, iat and exp', async () => {
    const now = nowSeconds();
    const [header, payload] = (await signUserToken(SECRET, '1', 60, now)).split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())).toEqual({ sub: '1', iat: now, exp: now + 60 });
  });

  it('accepts a token minted by any HS256 signer with the same secret (e.g. a Java backend)', async () => {
    const token = await new SignJWT({ role: 'ignored' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('42')
      .setExpirationTime(nowSeconds() + 60)
      .sign(key(SECRET));
    expect((verifyUserToken(SECRET, token)).userId).toBe('42');
  });

  it('refuses to sign for an invalid user id', async () => {
    await expect(signUserToken(SECRET, '', 60)).rejects.toThrow(TypeError);
    await expect(signUserToken(SECRET, 'a\nb', 60)).rejects.toThrow(TypeError);
  });

  it('reports an expired token as token_expired', async () => {
    const token = await signUserToken(SECRET, '1', 60, nowSeconds() - 3600);
    expect(refusal(token)).toBe('token_expired');
  });

  it('refuses a token signed with another key', async () => {
    const token = await signUserToken(OTHER_SECRET, '1', 60);
    expect(refusal(token)).toBe('unauthorized');
  });

  it('verifies each token against the secret it is given, whichever secret was used before (the key is cached per secret)', async () => {
    const mine = await signUserToken(SECRET, 'a', 60);
    const theirs = await signUserToken(OTHER_SECRET, 'b', 60);
    expect((verifyUserToken(SECRET, mine)).userId).toBe('a');
    expect(refusal(theirs, SECRET)).toBe('unauthorized');
    expect((verifyUserToken(OTHER_SECRET, theirs)).userId).toBe('b');
    expect(refusal(mine, OTHER_SECRET)).toBe('unauthorized');
    expect((verifyUserToken(SECRET, mine)).userId).toBe('a');
  });

  it('refuses an expired token signed with another key as unauthorized, not expired', async () => {
    const token = await signUserToken(OTHER_SECRET, '1', 60, nowSeconds() - 3600);
    expect(refusal(token)).toBe('unauthorized');
  });

  it('refuses an unsigned alg:none token', async () => {
    const payload = { sub: '1', exp: nowSeconds() + 3600 };
    expect(refusal(`${b64url({ alg: 'none' })}.${b64url(payload)}.`)).toBe('unauthorized');
    expect(refusal(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}`)).toBe('unauthorized');
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await signUserToken(SECRET, '1', 60)).split('.');
    const forged = `${header}.${b64url({ sub: 'admin', exp: nowSeconds() + 60 })}.${signature}`;
    expect(refusal(forged)).toBe('unauthorized');
  });

  it.each(['HS384', 'HS512'])('refuses %s even when signed with the right secret', async (alg) => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg })
      .setSubject('1')
      .setExpirationTime(nowSeconds() + 60)
      .sign(key(SECRET));
    expect(refusal(token)).toBe('unauthorized');
  });

  it('refuses a token without sub', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(nowSeconds() + 60).sign(key(SECRET));
    expect(refusal(token)).toBe('unauthorized');
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').sign(key(SECRET));
    expect(refusal(token)).toBe('unauthorized');
  });

  it('refuses a token whose exp is not a number', async () => {
    const token = await new SignJWT({ exp: 'tomorrow' } as unknown as Record<string, unknown>)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .sign(key(SECRET));
    expect(refusal(token)).toBe('unauthorized');
  });

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a newline', '1\n2'],
    ['a line separator', '1\u20282'],
    ['nothing', ''],
    ['too many characters', 'x'.repeat(129)],
  ])('refuses a sub containing %s', async (_what, sub) => {
    const token = await new SignJWT({ sub })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(nowSeconds() + 60)
      .sign(key(SECRET));
    expect(refusal(token)).toBe('unauthorized');
  });

  it('refuses a token that is not valid yet', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .setNotBefore(nowSeconds() + 3600)
      .setExpirationTime(nowSeconds() + 7200)
      .sign(key(SECRET));
    expect(refusal(token)).toBe('unauthorized');
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 12],
    ['an object', { token: 'x' }],
    ['an empty string', ''],
    ['garbage', 'not-a-jwt'],
    ['three garbage parts', 'a.b.c'],
  ])('refuses %s as unauthorized', async (_what, token) => {
    expect(refusal(token)).toBe('unauthorized');
  });
});

describe('bearerOf', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer a.b-c_d=', 'a.b-c_d='],
  ])('reads %j', (header, expected) => {
    expect(bearerOf(header)).toBe(expected);
  });

  it.each([undefined, null, '', 'Bearer', 'Bearer ', 'Bearerabc', 'Basic abc', 'Bearer a b', 'Token abc', ' Bearer abc'])(
    'finds no token in %j',
    (header) => {
      expect(bearerOf(header)).toBeUndefined();
    },
  );
});

describe('push API key', () => {
  const EXPECTED = 'push-key-0123456789abcdef';

  it('is open when no key is configured', () => {
    expect(checkPushKey(undefined, undefined)).toBe(true);
    expect(checkPushKey(null, undefined)).toBe(true);
    expect(checkPushKey('Bearer anything', undefined)).toBe(true);
  });

  it('accepts the right key', () => {
    expect(checkPushKey(`Bearer ${EXPECTED}`, EXPECTED)).toBe(true);
  });

  it('refuses a missing header or another scheme', () => {
    expect(checkPushKey(undefined, EXPECTED)).toBe(false);
    expect(checkPushKey(null, EXPECTED)).toBe(false);
    expect(checkPushKey('', EXPECTED)).toBe(false);
    expect(checkPushKey(`Basic ${EXPECTED}`, EXPECTED)).toBe(false);
    expect(checkPushKey(EXPECTED, EXPECTED)).toBe(false);
  });

  it('refuses a wrong key of the same length', () => {
    const wrong = EXPECTED.slice(0, -1) + (EXPECTED.endsWith('f') ? 'e' : 'f');
    expect(wrong).toHaveLength(EXPECTED.length);
    expect(checkPushKey(`Bearer ${wrong}`, EXPECTED)).toBe(false);
  });

  it('refuses keys of other lengths, including a prefix and an extension of the right one', () => {
    expect(checkPushKey(`Bearer ${EXPECTED.slice(0, 8)}`, EXPECTED)).toBe(false);
    expect(checkPushKey(`Bearer ${EXPECTED}x`, EXPECTED)).toBe(false);
    expect(checkPushKey('Bearer x', EXPECTED)).toBe(false);
  });

  it('compares keys of any lengths without throwing', () => {
    expect(keysEqual('same', 'same')).toBe(true);
    expect(keysEqual('', '')).toBe(true);
    expect(keysEqual('short', 'a-much-longer-key')).toBe(false);
    expect(keysEqual('a-much-longer-key', 'short')).toBe(false);
    expect(keysEqual('', 'x')).toBe(false);
    expect(keysEqual('Ünïcødé', 'Ünïcødé')).toBe(true);
    expect(keysEqual('Ünïcødé', 'Unicode')).toBe(false);
  });
});
