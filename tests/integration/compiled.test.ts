import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { request } from '../support/server';
import { serverSuite } from '../support/suite';

const suite = serverSuite();

/** A process's arguments and environment, as the kernel has them. */
function procOf(pid: number): { argv: string[]; env: string[] } {
  const split = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
  return { argv: split('cmdline'), env: split('environ') };
}

describe('the compiled server', () => {
  it('runs as npm start runs it: plain node on dist/server.js, with no TypeScript loader', async () => {
    const { process: child } = suite.server;
    const { argv, env } = procOf(child.pid as number);
    expect(argv.at(-1)).toBe('dist/server.js');
    expect(argv.join(' ')).not.toMatch(/tsx|--import|--loader|--require/);
    expect(env.filter((e) => e.startsWith('NODE_OPTIONS='))).toEqual([]);
    // And it serves: the page, the API and the probes.
    expect((await request(suite.server.url, '/healthz')).status).toBe(200);
    expect((await fetch(suite.server.url)).status).toBe(200);
  });
});
