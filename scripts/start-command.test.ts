import { describe, expect, it } from 'vitest';
import { parseStartScript, startArgs, startCommand } from './start-command';

describe('the start command other launchers mirror', () => {
  it('takes the node options between node and --import tsx', () => {
    expect(parseStartScript('NODE_ENV=production node --no-allocation-site-pretenuring --max-old-space-size=512 --import tsx server.ts')).toEqual({
      flags: ['--no-allocation-site-pretenuring', '--max-old-space-size=512'],
      script: 'server.ts',
    });
    expect(parseStartScript('node --import tsx server.ts')).toEqual({ flags: [], script: 'server.ts' });
  });

  it('refuses a start script it cannot mirror', () => {
    expect(() => parseStartScript('NODE_ENV=production tsx server.ts')).toThrow(/does not run node/);
    expect(() => parseStartScript('node --inspect server.ts')).toThrow(/node option, got "server.ts"/);
    expect(() => parseStartScript('node --import other server.ts')).toThrow(/--import tsx <script>/);
    expect(() => parseStartScript('node --import tsx server.ts extra')).toThrow(/--import tsx <script>/);
    expect(() => parseStartScript('node --import tsx')).toThrow(/--import tsx <script>/);
  });

  it('reads package.json: npm start runs server.ts under node with tsx', () => {
    const cmd = startCommand();
    expect(cmd.script).toBe('server.ts');
    expect(startArgs()).toEqual([...cmd.flags, '--import', 'tsx', 'server.ts']);
  });
});
