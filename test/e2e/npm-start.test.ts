import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/server.js';

/**
 * The README's `npm start` as a supervisor runs it (issue 14's first trap): SIGTERM to the npm
 * process must stop the server (npm's shell execs node, so the signal reaches it) and exit 0,
 * leaving no orphan listening.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'trusty-npm-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  // SIGTERM to npm alone: a supervisor. SIGINT to the whole process group: Ctrl-C in a terminal.
  it.each([
    ['SIGTERM to the npm process', 'SIGTERM', false],
    ['Ctrl-C (SIGINT to the process group)', 'SIGINT', true],
  ] as const)('stops the server on %s, exit 0, nothing left listening', async (_name, signal, group) => {
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `issuer: http://127.0.0.1:${port}\nport: ${port}\nlog_level: warn\ndatabase: { path: ./trusty.db }\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, TRUSTY_CONFIG: config };
    for (const name of ['PORT', 'HOST', 'ISSUER', 'DATABASE_PATH', 'LOG_LEVEL']) delete env[name];
    // detached: npm leads its own process group, as a shell's foreground job does.
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => npm.once('close', (code) => done(code)));
    const health = `http://127.0.0.1:${port}/health`;
    // npm start builds first (tsc and esbuild): up to a minute on a busy machine.
    const deadline = Date.now() + 150_000;
    while (!(await healthy(health))) {
      if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`npm start did not come up: ${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (group) process.kill(-npm.pid!, signal);
    else npm.kill(signal);
    expect(await exited).toBe(0);
    expect(await healthy(health)).toBe(false);
  }, 200_000);
});
