import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log';

/** A logger writing into an array, one parsed JSON line each. */
function capture(level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level, format: 'json' }, sink), lines };
}

describe('the logger', () => {
  it('writes one JSON line per event with an ISO time, a named level, the message and the fields', () => {
    const { log, lines } = capture();
    log.info('listening', { port: 3000 });
    expect(lines).toEqual([{ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), msg: 'listening', port: 3000 }]);
  });

  it('leaves out levels below its own', () => {
    const { log, lines } = capture('warn');
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'c'],
      ['error', 'd'],
    ]);
  });

  it('redacts credentials and notification content wherever they appear as fields', () => {
    const { log, lines } = capture();
    log.info('request', {
      authorization: 'Bearer secret-key',
      headers: { authorization: 'Bearer secret-key', cookie: 'herald_admin=abc', 'user-agent': 'curl' },
      token: 'eyJ…',
      signature: 'ab12',
      data: { actor: 'Alice', text: 'private' },
      push: { data: 'private', id: 'n1' },
      requestId: 'r1',
    });
    const line = JSON.stringify(lines[0]);
    for (const secret of ['secret-key', 'herald_admin=abc', 'eyJ', 'ab12', 'Alice', 'private']) expect(line).not.toContain(secret);
    expect(lines[0]).toMatchObject({ requestId: 'r1', headers: { 'user-agent': 'curl' }, push: { id: 'n1' } });
  });

  it('serializes errors with their message and stack, and carries a child’s fields', () => {
    const { log, lines } = capture();
    log.child({ nodeId: 'a' }).error('failed', { err: new Error('boom') });
    expect(lines[0]).toMatchObject({ level: 'error', nodeId: 'a', msg: 'failed', err: { type: 'Error', message: 'boom', stack: expect.stringContaining('boom') } });
  });
});
