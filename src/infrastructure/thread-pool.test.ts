import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_THREADS, MIN_THREADS, passwordHashingThreads, poolSize, threadPoolSize } from './thread-pool.js';

describe('threadPoolSize', () => {
  it('gives one thread per core, within 2 and 4', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => threadPoolSize(undefined, cores))).toEqual(['2', '2', '3', '4', '4', '4']);
    expect([MIN_THREADS, MAX_THREADS]).toEqual([2, 4]);
  });

  it("keeps the operator's UV_THREADPOOL_SIZE, and ignores an empty one", () => {
    expect(threadPoolSize('16', 2)).toBe('16');
    expect(threadPoolSize('1', 8)).toBe('1');
    expect(threadPoolSize(' ', 2)).toBe('2');
  });
});

describe('poolSize and passwordHashingThreads', () => {
  // What node's libuv started, counted with /proc/self/task: 4, 1, 1, 1, 1024 (negative wraps), 2.
  it('reads UV_THREADPOOL_SIZE as libuv does', () => {
    expect([undefined, '', 'x', '0', '-3', '2', ' 3', '5000'].map(poolSize)).toEqual([4, 1, 1, 1, 1024, 2, 3, 1024]);
  });

  it('keeps one pool thread for signatures, unless there is only one', () => {
    expect([1, 2, 3, 4, 16].map(passwordHashingThreads)).toEqual([1, 1, 2, 3, 15]);
  });
});

// The launcher bundled as `npm start` runs it, in front of a stand-in server that makes the
// pool start (8 WebCrypto signatures at once) and counts the process's threads.
describe.skipIf(!existsSync('/proc/self/task'))('the launcher (dist/trusty.cjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trusty-launch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const threads = async (env: Record<string, string>) => {
    if (!existsSync(join(dir, 'trusty.cjs'))) {
      await build({ entryPoints: ['src/launch.ts'], outfile: join(dir, 'trusty.cjs'), bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
      writeFileSync(
        join(dir, 'trusty.mjs'),
        `import { readdirSync } from 'node:fs';
const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
await Promise.all(Array.from({ length: 8 }, () => crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new Uint8Array(8))));
console.log(JSON.stringify({ size: process.env.UV_THREADPOOL_SIZE, threads: readdirSync('/proc/self/task').length }));`,
      );
    }
    const { UV_THREADPOOL_SIZE: _ignored, ...inherited } = process.env;
    return JSON.parse(execFileSync(process.execPath, [join(dir, 'trusty.cjs')], { env: { ...inherited, ...env }, encoding: 'utf8' })) as { size: string; threads: number };
  };

  it('starts libuv with the size it sets, before the server module is read', async () => {
    const two = await threads({ UV_THREADPOOL_SIZE: '2' });
    const six = await threads({ UV_THREADPOOL_SIZE: '6' });
    expect(two.size).toBe('2');
    // The same process but for the pool: four more threads are four more pool threads.
    expect(six.threads - two.threads).toBe(4);
    expect((await threads({})).size).toBe(threadPoolSize(undefined, (await import('node:os')).availableParallelism()));
  });
});
