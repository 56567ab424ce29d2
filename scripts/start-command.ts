import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The node options `npm start` runs Herald with, read from package.json's
 * `start` script, so that everything else that starts Herald as a child process
 * (the benchmark, the integration tests' server, `npm run cluster`) runs it the
 * same way: `node <flags> --import tsx server.ts`. The flags are V8 and Node
 * options chosen with numbers (docs/benchmarks.md); keeping one copy means a
 * benchmark can never measure a server started differently from production.
 */
export interface StartCommand {
  /** Node options before `--import tsx`, in order. */
  flags: string[];
  /** The script: server.ts. */
  script: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Parses a start script of the form `[NAME=value ...] node [--flag ...] --import tsx <script>`.
 * Anything else throws: a start script these helpers cannot mirror must not be mirrored wrongly.
 */
export function parseStartScript(script: string): StartCommand {
  const tokens = script.trim().split(/\s+/);
  let i = 0;
  while (i < tokens.length && /^[A-Z_][A-Z0-9_]*=/.test(tokens[i] as string)) i++;
  if (tokens[i] !== 'node') throw new Error(`start script does not run node: ${script}`);
  const flags: string[] = [];
  for (i++; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t === '--import') break;
    if (!t.startsWith('--')) throw new Error(`start script: expected a node option, got "${t}": ${script}`);
    flags.push(t);
  }
  if (tokens[i] !== '--import' || tokens[i + 1] !== 'tsx' || i + 3 !== tokens.length) {
    throw new Error(`start script must end with "--import tsx <script>": ${script}`);
  }
  return { flags, script: tokens[i + 2] as string };
}

/** package.json's start script, parsed. */
export function startCommand(root = ROOT): StartCommand {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const start = pkg.scripts?.start;
  if (!start) throw new Error('package.json has no start script');
  return parseStartScript(start);
}

/** The arguments for `spawn(process.execPath, …)` that start Herald as `npm start` does. */
export function startArgs(root = ROOT): string[] {
  const { flags, script } = startCommand(root);
  return [...flags, '--import', 'tsx', script];
}
