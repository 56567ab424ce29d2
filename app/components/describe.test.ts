import { describe, expect, it } from 'vitest';
import { describe as describeNotification, humanize, MAX_DETAIL_CHARS } from './describe';

const text = (entityType: string, data: Parameters<typeof describeNotification>[1]) => {
  const d = describeNotification(entityType, data);
  return { title: d.title, detail: d.detail };
};

describe('describe()', () => {
  describe('with an actor', () => {
    it('says who liked your post', () => {
      expect(describeNotification('like', { actor: 'Alice' })).toEqual({
        icon: 'like',
        title: 'Alice liked your post',
        titleParts: [{ user: 'Alice' }, ' liked ', 'your post'],
        clipped: false,
      });
    });

    it('quotes the target when there is one, and marks both as the user’s text', () => {
      const d = describeNotification('like', { actor: 'Alice', target: 'Holiday photos' });
      expect(d.title).toBe('Alice liked “Holiday photos”');
      expect(d.titleParts).toEqual([{ user: 'Alice' }, ' liked ', '“', { user: 'Holiday photos' }, '”']);
      expect(describeNotification('like', { actor: 'Alice', post: { title: 'Trip' } }).title).toBe('Alice liked “Trip”');
    });

    it('shows a comment with its words as the detail', () => {
      expect(text('comment', { actor: 'Bob', target: 'My post', text: 'Nice one!' })).toEqual({
        title: 'Bob commented on “My post”',
        detail: 'Nice one!',
      });
      expect(text('reply', { actor: 'Bob', message: 'Agreed' })).toEqual({ title: 'Bob commented on your post', detail: 'Agreed' });
    });

    it('says who followed you', () => {
      expect(describeNotification('follow', { actor: 'Carol' })).toMatchObject({ icon: 'follow', title: 'Carol started following you' });
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
      expect(describeNotification('deploy', { actor: 'CI', text: 'Build 42 passed' })).toMatchObject({
        icon: 'message',
        title: 'CI: Build 42 passed',
        titleParts: [{ user: 'CI' }, ': ', { user: 'Build 42 passed' }],
      });
    });

    it('says who sent an unknown type without text, and what it is about, never as JSON', () => {
      expect(text('message', { actor: 'Frank', target: 'Design review' })).toEqual({
        title: 'New notification from Frank',
        detail: 'About “Design review”',
      });
      expect(text('deploy', { actor: 'CI', build: 42, green: true })).toEqual({
        title: 'New notification from CI',
        detail: 'Build: 42 · Green: yes',
      });
    });
  });

  describe('falling back', () => {
    it('shows string data as it is, as the user’s text', () => {
      expect(describeNotification('message', 'You shall not pass!!!')).toEqual({
        icon: 'message',
        title: 'You shall not pass!!!',
        titleParts: [{ user: 'You shall not pass!!!' }],
        clipped: false,
      });
    });

    it('keeps the icon of a known type when the data has no actor', () => {
      expect(describeNotification('like', 'Someone liked something')).toMatchObject({ icon: 'like', title: 'Someone liked something' });
    });

    it('uses the text of an object without an actor', () => {
      expect(describeNotification('comment', { text: 'hello' })).toMatchObject({ icon: 'comment', title: 'hello' });
    });

    it('has a plain title and nothing else for no data or an empty object', () => {
      expect(text('message', null)).toEqual({ title: 'New notification', detail: undefined });
      expect(text('follow', {})).toEqual({ title: 'New follower', detail: undefined });
      expect(text('like', [])).toEqual({ title: 'New like', detail: 'Items: none' });
    });

    it('ignores an actor that is empty', () => {
      expect(describeNotification('like', { actor: '   ', text: 'hi' })).toMatchObject({ icon: 'like', title: 'hi' });
    });
  });

  describe('unknown shapes', () => {
    it('shows a neutral title and the fields as labelled text, never JSON', () => {
      const d = describeNotification('deploy', { build: 42, ok: true, by: null });
      expect(d).toMatchObject({ icon: 'message', title: 'New notification', detail: 'Build: 42 · Ok: yes · By: none' });
      expect(d.fields).toEqual([
        { label: 'Build', value: '42' },
        { label: 'Ok', value: 'yes' },
        { label: 'By', value: 'none' },
      ]);
    });

    it('labels nested fields by their path and lists arrays of values', () => {
      const d = describeNotification('build.finished', {
        pipeline: { name: 'main', stages: ['test', 'deploy'], runner: { region: 'eu-west', slots: { free: 2 } } },
        items: [{ sku: 'A1' }, { sku: 'B2' }],
      });
      expect(d.fields).toEqual([
        { label: 'Pipeline › Name', value: 'main' },
        { label: 'Pipeline › Stages', value: 'test, deploy' },
        { label: 'Pipeline › Runner › Region', value: 'eu-west' },
        { label: 'Pipeline › Runner › Slots', value: '1 field' },
        { label: 'Items › 1 › Sku', value: 'A1' },
        { label: 'Items › 2 › Sku', value: 'B2' },
      ]);
      expect(d.detail).toBe('Pipeline › Name: main · Pipeline › Stages: test, deploy · Pipeline › Runner › Region: eu-west · Pipeline › Runner › Slots: 1 field · 2 more');
      expect(d.clipped).toBe(true);
      expect(JSON.stringify(d)).not.toMatch(/[{}]\W*"?(?:sku|name)/);
    });

    it('shows a number, a boolean or an array of values as the detail', () => {
      expect(text('like', [1, 2])).toEqual({ title: 'New like', detail: 'Items: 1, 2' });
      expect(text('follow', 7)).toEqual({ title: 'New follower', detail: '7' });
      expect(text('message', false)).toEqual({ title: 'New notification', detail: 'no' });
    });

    it('keeps the link out of the fields and offers it as the link', () => {
      const d = describeNotification('message', { link: 'https://example.com/a', order: 'A-17' });
      expect(d).toMatchObject({ title: 'New notification', detail: 'Order: A-17', link: 'https://example.com/a' });
    });

    it('lists every field in full view, and says the summary left some out', () => {
      const data = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`field${i + 1}`, i]));
      const short = describeNotification('x', data);
      expect(short.detail).toBe('Field1: 0 · Field2: 1 · Field3: 2 · Field4: 3 · 4 more');
      expect(short.clipped).toBe(true);
      const full = describeNotification('x', data, { full: true });
      expect(full.fields).toHaveLength(8);
      expect(full.detail).toBeUndefined();
      expect(full.clipped).toBe(false);
    });
  });

  describe('markup', () => {
    const html = '<img src=x onerror=alert(1)>';

    it('returns HTML in string data verbatim, for React to render as text', () => {
      expect(describeNotification('message', html).title).toBe(html);
    });

    it('returns HTML in actor, target and text verbatim', () => {
      expect(text('comment', { actor: '<b>Mallory</b>', target: '<script>x()</script>', text: html })).toEqual({
        title: '<b>Mallory</b> commented on “<script>x()</script>”',
        detail: html,
      });
    });

    it('treats entity types named like Object.prototype members as unknown', () => {
      // Each is a valid entityType on the wire.
      for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        expect(text(type, { a: 1 })).toEqual({ title: 'New notification', detail: 'A: 1' });
      }
    });
  });

  describe('clipping', () => {
    it(`cuts long text to ${MAX_DETAIL_CHARS} characters with an ellipsis, and says so`, () => {
      const long = 'x'.repeat(1000);
      const d = describeNotification('message', long);
      expect(d.title).toHaveLength(MAX_DETAIL_CHARS);
      expect(d.title.endsWith('…')).toBe(true);
      expect(d.title.startsWith('x'.repeat(MAX_DETAIL_CHARS - 1))).toBe(true);
      expect(d.clipped).toBe(true);

      const detail = describeNotification('comment', { actor: 'A', text: long }).detail ?? '';
      expect(detail).toHaveLength(MAX_DETAIL_CHARS);
      expect(detail.endsWith('…')).toBe(true);
    });

    it('leaves text of exactly the limit alone', () => {
      const exact = 'y'.repeat(MAX_DETAIL_CHARS);
      expect(describeNotification('message', exact)).toMatchObject({ title: exact, clipped: false });
    });

    it('cuts nothing in full view', () => {
      const long = 'z'.repeat(16_000);
      expect(describeNotification('comment', { actor: 'A', text: long }, { full: true })).toMatchObject({ detail: long, clipped: false });
      expect(describeNotification('message', long, { full: true }).title).toBe(long);
    });
  });
});

describe('humanize()', () => {
  it.each([
    ['build', 'Build'],
    ['buildNumber', 'Build number'],
    ['build_number', 'Build number'],
    ['build-number', 'Build number'],
    ['dangerouslySetInnerHTML', 'Dangerously set inner HTML'],
    ['HTMLParser', 'HTML parser'],
    ['__html', 'Html'],
    ['$$typeof', '$$typeof'],
    ['', ''],
  ])('reads %j as %j', (key, label) => {
    expect(humanize(key)).toBe(label);
  });
});

describe('describe() of a collapsed group', () => {
  const like = (actors: Array<string | { name: string }>, count: number) =>
    describeNotification('like', { actor: actors[0] ?? null, target: 'Shipping Herald' }, { group: { actors, count, pushes: count } }).title;

  it('names one, two or three actors, newest first', () => {
    expect(like(['Bob'], 1)).toBe('Bob liked “Shipping Herald”');
    expect(like(['Bob', 'Alice'], 2)).toBe('Bob and Alice liked “Shipping Herald”');
    expect(like(['Bob', 'Alice', 'Carol'], 3)).toBe('Bob, Alice and Carol liked “Shipping Herald”');
  });

  it('names the newest two of more and counts the others', () => {
    expect(like(['Bob', 'Alice', 'Carol'], 13)).toBe('Bob, Alice and 11 others liked “Shipping Herald”');
    expect(like(['Actor 20', 'Actor 19', 'Actor 18'], 20)).toBe('Actor 20, Actor 19 and 18 others liked “Shipping Herald”');
  });

  it('reads actors given as objects with a name, and marks every name as the user’s text', () => {
    const d = describeNotification('follow', { actor: { name: 'Bob' } }, { group: { actors: [{ name: 'Bob' }, { name: 'Alice' }], count: 2, pushes: 2 } });
    expect(d.title).toBe('Bob and Alice started following you');
    expect(d.titleParts).toEqual([{ user: 'Bob' }, ' and ', { user: 'Alice' }, ' started following you']);
  });

  it('counts what it cannot name', () => {
    expect(like(['Bob', 'Alice'], 3)).toBe('Bob, Alice and 1 other liked “Shipping Herald”');
  });

  it('falls back to data.actor for a group without named actors', () => {
    expect(describeNotification('like', { actor: 'Bob' }, { group: { actors: [], count: 1, pushes: 4 } }).title).toBe('Bob liked your post');
  });
});
