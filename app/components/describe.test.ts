import { describe, expect, it } from 'vitest';
import { describe as describeNotification, rawText, relativeTime } from './describe';

const MAX_DETAIL_CHARS = 240;

describe('describe()', () => {
  describe('with an actor', () => {
    it('says who liked your post', () => {
      expect(describeNotification('like', { actor: 'Alice' })).toEqual({ icon: 'like', title: 'Alice liked your post' });
    });

    it('quotes the target when there is one', () => {
      expect(describeNotification('like', { actor: 'Alice', target: 'Holiday photos' }).title).toBe(
        'Alice liked “Holiday photos”',
      );
      expect(describeNotification('like', { actor: 'Alice', post: { title: 'Trip' } }).title).toBe('Alice liked “Trip”');
    });

    it('shows a comment with its words as the detail', () => {
      expect(describeNotification('comment', { actor: 'Bob', target: 'My post', text: 'Nice one!' })).toEqual({
        icon: 'comment',
        title: 'Bob commented on “My post”',
        detail: 'Nice one!',
      });
      expect(describeNotification('reply', { actor: 'Bob', message: 'Agreed' })).toEqual({
        icon: 'comment',
        title: 'Bob commented on your post',
        detail: 'Agreed',
      });
    });

    it('says who followed you', () => {
      expect(describeNotification('follow', { actor: 'Carol' })).toMatchObject({
        icon: 'follow',
        title: 'Carol started following you',
      });
    });

    it('says who mentioned you, and where', () => {
      expect(describeNotification('mention', { actor: 'Dan' }).title).toBe('Dan mentioned you');
      expect(describeNotification('mention', { actor: 'Dan', target: 'Plans' })).toMatchObject({
        icon: 'mention',
        title: 'Dan mentioned you in “Plans”',
      });
    });

    it('finds the actor under other names and shapes', () => {
      expect(describeNotification('like', { user: 'Eve' }).title).toBe('Eve liked your post');
      expect(describeNotification('like', { from: { name: 'Frank' } }).title).toBe('Frank liked your post');
      expect(describeNotification('like', { actor: { displayName: 'Grace' } }).title).toBe('Grace liked your post');
      expect(describeNotification('like', { actor: { username: 'heidi' } }).title).toBe('heidi liked your post');
      expect(describeNotification('like', { actor: 42 }).title).toBe('42 liked your post');
      expect(describeNotification('like', { actor: '  Ivan  ' }).title).toBe('Ivan liked your post');
    });

    it('shows an unknown type with an actor and text as "actor: text"', () => {
      expect(describeNotification('deploy', { actor: 'CI', text: 'Build 42 passed' })).toEqual({
        icon: 'message',
        title: 'CI: Build 42 passed',
      });
    });
  });

  describe('falling back', () => {
    it('shows string data as it is', () => {
      expect(describeNotification('message', 'You shall not pass!!!')).toEqual({
        icon: 'message',
        title: 'You shall not pass!!!',
      });
    });

    it('keeps the icon of a known type when the data has no actor', () => {
      expect(describeNotification('like', 'Someone liked something')).toEqual({ icon: 'like', title: 'Someone liked something' });
    });

    it('uses the text of an object without an actor', () => {
      expect(describeNotification('comment', { text: 'hello' })).toEqual({ icon: 'comment', title: 'hello' });
    });

    it('shows unknown types and shapes as raw text under a generic title', () => {
      expect(describeNotification('deploy', { build: 42, ok: true })).toEqual({
        icon: 'message',
        title: 'New notification',
        detail: '{"build":42,"ok":true}',
      });
      expect(describeNotification('like', [1, 2])).toEqual({ icon: 'like', title: 'New like', detail: '[1,2]' });
      expect(describeNotification('follow', 7)).toEqual({ icon: 'follow', title: 'New follower', detail: '7' });
    });

    it('has no detail when there is no data', () => {
      expect(describeNotification('message', null)).toEqual({ icon: 'message', title: 'New notification' });
    });

    it('ignores an actor that is empty', () => {
      expect(describeNotification('like', { actor: '   ', text: 'hi' })).toEqual({ icon: 'like', title: 'hi' });
    });
  });

  describe('markup', () => {
    const html = '<img src=x onerror=alert(1)>';

    it('returns HTML in string data verbatim, for React to render as text', () => {
      expect(describeNotification('message', html).title).toBe(html);
    });

    it('returns HTML in actor, target and text verbatim', () => {
      expect(describeNotification('comment', { actor: '<b>Mallory</b>', target: '<script>x()</script>', text: html })).toEqual({
        icon: 'comment',
        title: '<b>Mallory</b> commented on “<script>x()</script>”',
        detail: html,
      });
    });

    it('treats entity types named like Object.prototype members as unknown', () => {
      // Each is a valid entityType on the wire.
      for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        expect(describeNotification(type, { a: 1 })).toEqual({ icon: 'message', title: 'New notification', detail: '{"a":1}' });
      }
    });
  });

  describe('clipping', () => {
    it(`cuts long text to ${MAX_DETAIL_CHARS} characters with an ellipsis`, () => {
      const long = 'x'.repeat(1000);
      const title = describeNotification('message', long).title;
      expect(title).toHaveLength(MAX_DETAIL_CHARS);
      expect(title.endsWith('…')).toBe(true);
      expect(title.startsWith('x'.repeat(MAX_DETAIL_CHARS - 1))).toBe(true);

      const detail = describeNotification('comment', { actor: 'A', text: long }).detail ?? '';
      expect(detail).toHaveLength(MAX_DETAIL_CHARS);
      expect(detail.endsWith('…')).toBe(true);
    });

    it('leaves text of exactly the limit alone', () => {
      const exact = 'y'.repeat(MAX_DETAIL_CHARS);
      expect(describeNotification('message', exact).title).toBe(exact);
    });

    it('clips raw JSON too', () => {
      const raw = rawText({ blob: 'z'.repeat(1000) });
      expect(raw).toHaveLength(MAX_DETAIL_CHARS);
      expect(raw.endsWith('…')).toBe(true);
    });
  });
});

describe('relativeTime()', () => {
  const now = Date.UTC(2025, 5, 15, 12, 0, 0);
  const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

  it.each([
    [0, 'just now'],
    [44, 'just now'],
    [-30, 'just now'],
    [50, '1 minute ago'],
    [3 * 60, '3 minutes ago'],
    [2 * 3600, '2 hours ago'],
    [24 * 3600, 'yesterday'],
    [3 * 24 * 3600, '3 days ago'],
    [7 * 24 * 3600, 'last week'],
    [60 * 24 * 3600, '2 months ago'],
    [2 * 365 * 24 * 3600, '2 years ago'],
    [-5 * 60, 'in 5 minutes'],
  ])('describes %i seconds ago as %j', (seconds, expected) => {
    expect(relativeTime(ago(seconds), now)).toBe(expected);
  });

  it('returns nothing for a time it cannot read', () => {
    expect(relativeTime('not a date', now)).toBe('');
  });
});
