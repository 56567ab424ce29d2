import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { serverArgs } from './server-command';

/**
 * `npx tsx scripts/first-load.ts [path]`: the JavaScript a browser loads to
 * show a page of the built app (`npm run build` first), raw and gzipped: every
 * `<script src>` of the page's HTML, fetched from a server started as npm
 * start does. docs/architecture.md quotes the figure for `/`.
 */
async function main(): Promise<void> {
  const page = process.argv[2] ?? '/';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-first-load-'));
  const child = spawn(process.execPath, serverArgs(), {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const line of buffer.split('\n')) {
          try {
            const entry = JSON.parse(line) as { msg?: string; port?: number };
            if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
          } catch {
            // not a log line (Next prints plain ones), or not a whole one yet
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const html = await (await fetch(base + page)).text();
    const sources = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] as string);
    let raw = 0;
    let gzipped = 0;
    for (const src of sources) {
      const bytes = Buffer.from(await (await fetch(new URL(src, base))).arrayBuffer());
      raw += bytes.length;
      gzipped += gzipSync(bytes).length;
    }
    console.log(JSON.stringify({ page, scripts: sources.length, rawBytes: raw, gzipBytes: gzipped, gzipKiB: Math.round((gzipped / 1024) * 10) / 10 }));
  } finally {
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
