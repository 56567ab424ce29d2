import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from './server';

/** verifyWebhook against payloads signed by standardwebhooks' own `sign`, as Herald's webhooks are. */

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const payload = JSON.stringify({ type: 'notification.read', data: { id: 'order-42:shipped', userId: 'alice' } });

function signed(body: string, at: Date = new Date(), id = 'msg_2b7f') {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
}

describe('verifyWebhook', () => {
  it('returns the payload of a webhook signed with the secret', () => {
    expect(verifyWebhook(payload, signed(payload), secret)).toEqual(JSON.parse(payload));
  });

  it('reads Fetch Headers and node:http headers (any case, repeated values)', () => {
    const headers = signed(payload);
    expect(verifyWebhook(Buffer.from(payload), new Headers(headers), secret)).toEqual(JSON.parse(payload));
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(payload, upper, secret)).toEqual(JSON.parse(payload));
  });

  it('refuses an altered body, another secret, a missing header and an old timestamp', () => {
    const headers = signed(payload);
    expect(() => verifyWebhook(payload.replace('alice', 'mallory'), headers, secret)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(payload, headers, `whsec_${randomBytes(24).toString('base64')}`)).toThrow(WebhookVerificationError);
    const { 'webhook-signature': _dropped, ...unsigned } = headers;
    expect(() => verifyWebhook(payload, unsigned, secret)).toThrow(WebhookVerificationError);
    const old = new Date(Date.now() - 10 * 60 * 1000);
    expect(() => verifyWebhook(payload, signed(payload, old), secret)).toThrow(WebhookVerificationError);
  });
});
