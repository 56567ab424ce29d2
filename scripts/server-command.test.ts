import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_ENTRY, SERVER_NODE_FLAGS, serverArgs } from './server-command';

describe('the server command', () => {
  it('is what npm start runs: plain node with the kept V8 flags on the compiled server, no tsx', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`NODE_ENV=production node ${SERVER_NODE_FLAGS.join(' ')} ${SERVER_ENTRY}`);
    expect(serverArgs()).toEqual([...SERVER_NODE_FLAGS, 'dist/server.js']);
    expect(pkg.scripts.start).not.toContain('tsx');
  });
});
