import { createHmac } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../tests/support/rng';
import { hmacKeyOf, verifyHs256 } from './jwt';

/**
 * lib/jwt.ts against jose, the library it replaces on the verify path: the same
 * tokens through both, with the options Herald gave jose. Where every part of a
 * token is canonical base64url the two must agree exactly (outcome and claims);
 * elsewhere ours must refuse (it is stricter there on purpose, never looser).
 */

const SECRET = 'differential-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const OTHER = 'another-secret-0123456789abcdefghijklmnopqrstuvwxyz-abcdef';
const TOLERANCE = 5;
const NOW = 1_900_000_000;

type Outcome = { kind: 'ok'; claims: Record<string, unknown> } | { kind: 'expired' | 'claims' | 'invalid' };

async function joseOutcome(token: string, secret = SECRET): Promise<Outcome> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
      clockTolerance: TOLERANCE,
      currentDate: new Date(NOW * 1000),
    });
    return { kind: 'ok', claims: payload };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { kind: 'expired' };
    if (err instanceof joseErrors.JWTClaimValidationFailed) return { kind: 'claims' };
    return { kind: 'invalid' };
  }
}

function ourOutcome(token: string, secret = SECRET): Outcome {
  const r = verifyHs256(token, hmacKeyOf(secret), NOW, TOLERANCE);
  if (r.ok) return { kind: 'ok', claims: r.value.claims };
  if (r.reason === 'expired') return { kind: 'expired' };
  if (r.reason === 'claims' || r.reason === 'early') return { kind: 'claims' };
  return { kind: 'invalid' };
}

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64url');
const sign = (input: string, secret = SECRET) => createHmac('sha256', secret).update(input, 'latin1').digest('base64url');
/** A token over exactly these two encoded parts, signed by the test (so any header or payload text can be tried). */
const signed = (headerPart: string, payloadPart: string, secret = SECRET) =>
  `${headerPart}.${payloadPart}.${sign(`${headerPart}.${payloadPart}`, secret)}`;
const tokenOf = (header: unknown, payload: unknown, secret = SECRET) =>
  signed(b64(JSON.stringify(header)), b64(JSON.stringify(payload)), secret);

const canonical = (part: string) => /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1 && b64(Buffer.from(part, 'base64url')) === part;
const allCanonical = (token: string) => {
  const parts = token.split('.');
  return parts.length === 3 && parts.every(canonical);
};

/** What each test's tokens came to (jose's outcome; non-canonical ones apart). */
const seen = { ok: 0, expired: 0, claims: 0, invalid: 0, nonCanonical: 0 };
beforeEach(() => {
  for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] = 0;
});

/** Runs one token through both and checks the rule; returns jose's outcome. */
async function compare(token: string, secret = SECRET): Promise<Outcome> {
  const theirs = await joseOutcome(token, secret);
  const ours = ourOutcome(token, secret);
  if (allCanonical(token)) {
    expect(ours, token).toEqual(theirs);
    seen[theirs.kind]++;
  } else {
    expect(ours.kind, token).toBe('invalid');
    seen.nonCanonical++;
  }
  return theirs;
}

const HEADERS: unknown[] = [
  { alg: 'HS256' },
  { alg: 'HS256', typ: 'JWT' },
  { alg: 'HS256', typ: 'at+jwt', kid: 'k1' },
  { alg: 'hs256' },
  { alg: 'HS384' },
  { alg: 'HS512' },
  { alg: 'none' },
  { alg: '' },
  { alg: ['HS256'] },
  {},
  { alg: 'HS256', crit: ['b64'], b64: true },
  { alg: 'HS256', crit: ['b64'], b64: false },
  { alg: 'HS256', crit: ['b64'] },
  { alg: 'HS256', crit: ['b64', 'b64'], b64: true },
  { alg: 'HS256', crit: ['exp'], exp: 1 },
  { alg: 'HS256', crit: [] },
  { alg: 'HS256', crit: 'b64', b64: true },
  { alg: 'HS256', b64: false },
  [{ alg: 'HS256' }],
  'HS256',
  null,
  7,
];

const PAYLOADS: unknown[] = [
  { sub: 'u1', exp: NOW + 60 },
  { sub: 'u1', exp: NOW + 60, iat: NOW },
  { sub: 'u1', exp: NOW + 60, iat: NOW + 3600 },
  { sub: 'u1', exp: NOW + 60, iat: 'now' },
  { sub: 'u1', exp: NOW + 60, iat: null },
  { sub: 'u1', exp: NOW - 4 },
  { sub: 'u1', exp: NOW - 5 },
  { sub: 'u1', exp: NOW - 3600 },
  { sub: 'u1', exp: NOW + 0.5 },
  { sub: 'u1', exp: 1e308 },
  { sub: 'u1', exp: String(NOW + 60) },
  { sub: 'u1', exp: null },
  { sub: 'u1' },
  { exp: NOW + 60 },
  { sub: 7, exp: NOW + 60 },
  { sub: null, exp: NOW + 60 },
  { sub: '', exp: NOW + 60 },
  { sub: 'u1', exp: NOW + 60, nbf: NOW + 5 },
  { sub: 'u1', exp: NOW + 60, nbf: NOW + 6 },
  { sub: 'u1', exp: NOW + 60, nbf: 'soon' },
  { sub: 'u1', exp: NOW - 3600, nbf: NOW + 3600 },
  { sub: 'u1', exp: 'x', nbf: NOW + 3600 },
  { sub: 'u1', exp: NOW - 3600, iat: 'x' },
  { sub: 'u1', exp: NOW + 60, aud: 'a', iss: 'b', jti: 'c', extra: { nested: [1, 2] } },
  { sub: 'ünï¢ødé 🦊', exp: NOW + 60 },
  [{ sub: 'u1', exp: NOW + 60 }],
  'u1',
  null,
  NOW,
];

describe('verifyHs256 against jose', () => {
  it('agrees on every header and claims set in the table', async () => {
    for (const header of HEADERS) {
      for (const payload of PAYLOADS) await compare(tokenOf(header, payload));
    }
    // The table reaches every outcome, so agreement here is not agreement on refusals alone.
    expect(seen.ok).toBeGreaterThan(10);
    expect(seen.expired).toBeGreaterThan(3);
    expect(seen.claims).toBeGreaterThan(10);
    expect(seen.invalid).toBeGreaterThan(100);
  });

  it('accepts what jose signs, with the same claims', async () => {
    const token = await new SignJWT({ role: 'reader' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('user-1')
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 600)
      .sign(new TextEncoder().encode(SECRET));
    const ours = ourOutcome(token);
    expect(ours).toEqual({ kind: 'ok', claims: { role: 'reader', sub: 'user-1', iat: NOW, exp: NOW + 600 } });
    expect(await joseOutcome(token)).toEqual(ours);
  });

  it('agrees on claims texts that are not quite JSON objects (mutated, then signed)', async () => {
    const rand = seededRandom(4);
    const pieces = ['{', '}', '"', ':', ',', '\\', '\u0000', '\ufeff', 'é', '\ud800', ' ', '1e999', 'null', '[', ']', '-0', 'sub', 'exp'];
    const base = JSON.stringify({ sub: 'u1', exp: NOW + 60, iat: NOW });
    for (let i = 0; i < 1500; i++) {
      let text = base;
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (text.length + 1));
        const op = rand();
        const piece = pieces[Math.floor(rand() * pieces.length)] ?? '';
        if (op < 0.4) text = text.slice(0, at) + piece + text.slice(at);
        else if (op < 0.8) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 4));
        else text = text.slice(0, at) + piece + text.slice(at + piece.length);
      }
      // Some as UTF-8, some as raw bytes that need not be valid UTF-8.
      const bytes = rand() < 0.8 ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
      await compare(signed(b64(JSON.stringify({ alg: 'HS256' })), b64(bytes)));
    }
    // With a leading BOM, both read the JSON after it.
    await compare(signed(b64(JSON.stringify({ alg: 'HS256' })), b64(`\ufeff${base}`)));
    expect(seen.ok).toBeGreaterThan(20);
    expect(seen.invalid).toBeGreaterThan(500);
  });

  it('refuses non-canonical base64url that jose would decode, and never accepts what jose refuses', async () => {
    const rand = seededRandom(7);
    const header = b64(JSON.stringify({ alg: 'HS256' }));
    const payload = b64(JSON.stringify({ sub: 'u1', exp: NOW + 60 }));
    const alphabet = 'AZaz09-_=+/ .\t\n%';
    let joseAcceptedNonCanonical = 0;
    for (let i = 0; i < 1500; i++) {
      const parts = [header, payload];
      const which = Math.floor(rand() * 2);
      let part = parts[which] ?? '';
      const at = Math.floor(rand() * (part.length + 1));
      const ch = alphabet[Math.floor(rand() * alphabet.length)] ?? '=';
      const op = rand();
      if (op < 0.35) part = part.slice(0, at) + ch + part.slice(at);
      else if (op < 0.55) part = part.slice(0, at) + part.slice(at + 1);
      else if (op < 0.75) part = `${part}${'='.repeat(1 + Math.floor(rand() * 2))}`;
      else part = part.slice(0, -1) + ch;
      parts[which] = part;
      // Signed over the mutated text, so only the decoding can refuse it.
      const token = signed(parts[0] ?? '', parts[1] ?? '');
      const theirs = await compare(token);
      if (!allCanonical(token) && theirs.kind === 'ok') joseAcceptedNonCanonical++;
    }
    // Padding, whitespace and spare bits: jose decodes some of these; ours refuses all.
    expect(joseAcceptedNonCanonical).toBeGreaterThan(0);
    // A signature with non-zero spare bits in its last character decodes to the same 32 bytes.
    const token = tokenOf({ alg: 'HS256' }, { sub: 'u1', exp: NOW + 60 });
    const sig = token.slice(token.lastIndexOf('.') + 1);
    const last = sig.at(-1) ?? 'A';
    const twin = 'AEIMQUYcgkosw048'.includes(last) ? String.fromCharCode(last.charCodeAt(0) + 1) : last;
    const spareBits = `${token.slice(0, token.lastIndexOf('.') + 1)}${sig.slice(0, -1)}${twin}`;
    expect(Buffer.from(spareBits.split('.')[2] ?? '', 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    expect((await joseOutcome(spareBits)).kind).toBe('ok');
    expect(ourOutcome(spareBits).kind).toBe('invalid');
  });

  it('agrees on broken structure and signatures', async () => {
    const good = tokenOf({ alg: 'HS256' }, { sub: 'u1', exp: NOW + 60 });
    const [h = '', p = '', s = ''] = good.split('.');
    const cases = [
      good,
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}.${p}.${s}.`,
      `${h}.${p}.${s}.${s}`,
      `.${p}.${s}`,
      `${h}..${s}`,
      `${p}.${h}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}`,
      `${h}.${p}.${s}AA`,
      `${h}.${p}.${sign(`${h}.${p}`, OTHER)}`,
      `${h}.${p}.${b64(createHmac('sha384', SECRET).update(`${h}.${p}`).digest())}`,
      '...',
      '',
      'a.b.c',
      good.toUpperCase(),
    ];
    for (const token of cases) await compare(token);
    expect(ourOutcome(good).kind).toBe('ok');
    await compare(good, OTHER);
    expect(ourOutcome(good, OTHER).kind).toBe('invalid');
    // Every single-character change to the signature is refused by both.
    const rand = seededRandom(11);
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(rand() * s.length);
      const ch = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[Math.floor(rand() * 64)] ?? 'A';
      if (ch === s[at]) continue;
      const token = `${h}.${p}.${s.slice(0, at)}${ch}${s.slice(at + 1)}`;
      const theirs = await compare(token);
      // A change in the last character's spare bits leaves the bytes alone: jose accepts it, ours refuses it.
      if (at !== s.length - 1) expect(theirs.kind).toBe('invalid');
      expect(ourOutcome(token).kind).toBe('invalid');
    }
  });

  it('caches one key per secret and switches when the secret changes', () => {
    const token = tokenOf({ alg: 'HS256' }, { sub: 'u1', exp: NOW + 60 });
    expect(hmacKeyOf(SECRET)).toBe(hmacKeyOf(SECRET));
    expect(verifyHs256(token, hmacKeyOf(OTHER), NOW, TOLERANCE)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyHs256(token, hmacKeyOf(SECRET), NOW, TOLERANCE).ok).toBe(true);
  });
});
