import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { freePort } from '../support/server.js';

/**
 * The container files (docs/container.md), checked without a Docker engine (none runs on our
 * machines): docker-compose.yml through Debian's `docker-compose config`; the Dockerfile by
 * structural rules (hadolint is in neither Debian bookworm nor npm without a binary download at
 * install time); and the runtime stage's file layout, rebuilt from its COPY list, must serve.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'trusty-container-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// The Dockerfile, parsed: continuation lines joined, comments dropped, one entry per instruction.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // Docker drops comment lines, inside a continuation too.
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole === '') continue;
    const space = whole.search(/\s/);
    instructions.push({ keyword: whole.slice(0, space).toUpperCase(), args: whole.slice(space).trim() });
  }
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      stages.push({ image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${instruction.keyword} before FROM`);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);

interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

/** COPY [--from=x] [--chown=...] src... dest (the shell form: the only one this Dockerfile uses). */
function parseCopy(args: string): Copy {
  expect(args.startsWith('['), `COPY ${args}: use the shell form`).toBe(false);
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
}

/** The packages an `apt-get install` names in a RUN. */
function aptPackages(run: string): string[] {
  const packages: string[] = [];
  for (const command of run.split(/&&|;/)) {
    const words = command.trim().split(/\s+/);
    if (words[0] !== 'apt-get' || !words.includes('install')) continue;
    packages.push(...words.slice(words.indexOf('install') + 1).filter((w) => !w.startsWith('-')));
  }
  return packages;
}

/** The JSON (exec) form of CMD/ENTRYPOINT: an argv, no shell between tini and node. */
function execForm(args: string): string[] {
  const argv: unknown = JSON.parse(args);
  expect(Array.isArray(argv) && argv.every((a) => typeof a === 'string'), `${args}: must be a JSON array of strings`).toBe(true);
  return argv as string[];
}

/** ENV a=b c=d (the key=value form). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      expect(eq, `ENV ${args}: use key=value`).toBeGreaterThan(0);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** A .dockerignore pattern as Docker matches it (Go's filepath.Match, plus `**`), from the context root. */
function ignoreMatcher(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  expect(patterns.some((p) => p.startsWith('!')), '.dockerignore: no exceptions, so this matcher is exact').toBe(false);
  const regexes = patterns.map((pattern) => {
    const source = pattern
      .replace(/^\/+|\/+$/g, '')
      .split(/(\*\*\/|\*|\?)/)
      .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${source}$`);
  });
  // A path is left out when it, or a folder above it, matches.
  return (path) => {
    const parts = path.replace(/\/+$/, '').split('/');
    return parts.some((_, i) => regexes.some((r) => r.test(parts.slice(0, i + 1).join('/'))));
  };
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const build = stages[0]!;
const runtime = stages.at(-1)!;
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
};
/** The build stage's WORKDIR, where the runtime stage copies from. */
const buildDir = last(build, 'WORKDIR')!.args;
const runtimeDir = last(runtime, 'WORKDIR')!.args;
const runtimeCopies = all(runtime, 'COPY').map((c) => parseCopy(c.args));

describe('Dockerfile (structural rules: no hadolint available without a network download)', () => {
  it('has a build stage and a runtime stage on the same Node LTS slim image, major pinned', () => {
    expect(stages.length).toBe(2);
    expect(build.name).toBe('build');
    for (const stage of stages) expect(stage.image).toMatch(/^node:24-(bookworm|trixie)-slim$/);
    expect(runtime.image).toBe(build.image);
    expect(all(runtime, 'ADD')).toEqual([]);
    expect(all(build, 'ADD')).toEqual([]);
  });

  it('builds the native addons and the bundles in the build stage, then drops the dev dependencies', () => {
    const runs = all(build, 'RUN').map((r) => r.args);
    const joined = runs.join(' && ');
    expect(aptPackages(joined).sort()).toEqual(['g++', 'make', 'python3']);
    const ci = joined.indexOf('npm ci');
    const bundle = joined.indexOf('npm run build');
    const prune = joined.search(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(bundle).toBeGreaterThan(ci);
    expect(prune).toBeGreaterThan(bundle);
  });

  it('runs as a non-root user, through tini, node itself with the flags of npm start', () => {
    const user = last(runtime, 'USER')?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(execForm(last(runtime, 'ENTRYPOINT')!.args)).toEqual(['tini', '--']);
    const cmd = execForm(last(runtime, 'CMD')!.args);
    // npm start is `npm run build --silent && exec node <flags> dist/trusty.cjs`: the same flags.
    const start = /exec node (.*)$/.exec(packageJson.scripts.start!)?.[1]?.split(/\s+/);
    expect(cmd).toEqual(['node', ...start!]);
    expect(cmd.join(' ')).not.toMatch(/\bnpm\b/);
    const runs = all(runtime, 'RUN').map((r) => r.args).join(' && ');
    expect(aptPackages(runs)).toEqual(['tini']);
  });

  it('has nothing of the build in the runtime stage: no compilers, no npm install, copies from the build stage only', () => {
    const runs = all(runtime, 'RUN').map((r) => r.args).join(' && ');
    expect(runs).not.toMatch(/\b(npm|npx|python3|make|g\+\+|gcc|build-essential)\b/);
    for (const copy of runtimeCopies) {
      expect(copy.from, `COPY ${copy.sources.join(' ')}: from the build stage only`).toBe('build');
      for (const source of copy.sources) {
        // Only the bundles of dist/: dist/src (tsc's output, with source maps) is not needed.
        if (source.startsWith(`${buildDir}/dist`)) expect(source).toMatch(/\/dist\/trusty(-cli)?\.(c|m)js$/);
        expect(source).not.toMatch(/\/(src|scripts|test|tsconfig[^/]*\.json)\/?$/);
      }
    }
  });

  it('cleans the apt lists and installs no recommended packages in every RUN that installs', () => {
    for (const stage of stages) {
      for (const { args } of all(stage, 'RUN')) {
        if (aptPackages(args).length === 0) continue;
        expect(args).toMatch(/apt-get update/);
        expect(args).toMatch(/apt-get install -y --no-install-recommends /);
        expect(args).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
      }
    }
  });

  it('listens on all interfaces on 8081, keeps the database on the /data volume, health-checks /health without curl', () => {
    const env = envOf(runtime);
    expect(env).toMatchObject({ HOST: '0.0.0.0', NODE_ENV: 'production' });
    expect(env.DATABASE_PATH).toBe('/data/trusty.db');
    expect(all(runtime, 'VOLUME').map((v) => v.args)).toEqual(['/data']);
    expect(all(runtime, 'EXPOSE').map((e) => e.args)).toEqual(['8081']);
    // The volume is made writable by the user the server runs as (a named volume takes the
    // image folder's owner and mode when it is first mounted).
    const user = last(runtime, 'USER')!.args;
    expect(all(runtime, 'RUN').map((r) => r.args).join(' ')).toContain(`chown ${user}:${user} /data`);
    const healthcheck = last(runtime, 'HEALTHCHECK')!.args;
    const argv = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim());
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/health');
    expect(argv.join(' ')).toContain('process.env.PORT || 8081');
  });
});

describe('the files the image is made of', () => {
  const bundles = ['dist/trusty.cjs', 'dist/trusty.mjs', 'dist/trusty-cli.mjs'];

  it('copies into the build stage only paths of the repository that .dockerignore lets through', () => {
    const ignored = ignoreMatcher(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    // What must never reach the context: local builds (native addons of another platform), data, history.
    for (const path of ['node_modules', 'dist', 'data', '.git', 'data/trusty.db', 'bench/results/x.json', 'a/b.db']) {
      expect(ignored(path), path).toBe(true);
    }
    for (const { args } of all(build, 'COPY')) {
      const copy = parseCopy(args);
      expect(copy.from).toBeUndefined();
      for (const source of copy.sources) {
        expect(existsSync(join(ROOT, source)), `${source} is in the repository`).toBe(true);
        expect(ignored(source), `${source} is not in .dockerignore`).toBe(false);
      }
    }
  });

  it('copies into the runtime stage only what the build stage has: copied there, or made by npm run build / npm ci', () => {
    // dist/ is built by the test only when missing (npm start and the CLI tests build it too).
    if (!bundles.every((b) => existsSync(join(ROOT, b)))) {
      const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
    }
    const copiedInBuild = all(build, 'COPY').flatMap((c) => parseCopy(c.args).sources.map((s) => s.replace(/\/$/, '')));
    for (const { sources } of runtimeCopies) {
      for (const source of sources) {
        expect(source.startsWith(`${buildDir}/`), `${source} is under the build stage's WORKDIR ${buildDir}`).toBe(true);
        const path = posix.relative(buildDir, source.replace(/\/$/, ''));
        const made = path === 'node_modules' || bundles.includes(path);
        expect(made || copiedInBuild.includes(path), `${path} is copied into the build stage`).toBe(true);
        expect(existsSync(join(ROOT, path)), `${path} exists (in the repository or after npm run build)`).toBe(true);
      }
    }
    // The bundles leave these to node_modules: they must be production dependencies, or
    // `npm prune --omit=dev` removes what the server loads.
    const external = /external:\s*\[([^\]]*)\]/.exec(readFileSync(join(ROOT, 'scripts/bundle.mjs'), 'utf8'))?.[1];
    const names = [...external!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      // A scope pattern (`@opentelemetry/*`): at least one production dependency under it, none a dev one.
      const matches = (dep: string) => (name.endsWith('/*') ? dep.startsWith(name.slice(0, -1)) : dep === name);
      expect(Object.keys(packageJson.dependencies).some(matches), `${name} is a dependency`).toBe(true);
      expect(Object.keys(packageJson.devDependencies ?? {}).filter(matches), `${name} is no dev dependency`).toEqual([]);
    }
  }, 180_000);

  it("serves from the runtime stage's layout alone: /health, the pages (templates, locales, style sheet), the CLI", async () => {
    // The runtime stage's COPY list, applied to a temporary folder (node_modules: the checkout's,
    // linked; which packages the image keeps is npm prune's business, and the bundles' externals
    // are checked above). A file the server reads that the list misses fails here.
    const app = join(work, 'app');
    mkdirSync(app);
    for (const { sources, destination } of runtimeCopies) {
      const target = join(app, posix.relative(runtimeDir, posix.resolve(runtimeDir, destination)));
      for (const source of sources) {
        const path = posix.relative(buildDir, source.replace(/\/$/, ''));
        const from = join(ROOT, path);
        // Docker: a folder's contents go into the destination; files into a destination ending in /.
        const to = destination.endsWith('/') && !source.endsWith('/') ? join(target, posix.basename(path)) : target;
        if (path === 'node_modules') symlinkSync(from, to, 'dir');
        else cpSync(from, to, { recursive: true });
      }
    }
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...envOf(runtime) };
    Object.assign(env, { HOST: '127.0.0.1', PORT: String(port), DATABASE_PATH: join(work, 'data', 'trusty.db'), LOG_LEVEL: 'warn' });
    const [command, ...args] = execForm(last(runtime, 'CMD')!.args);
    const server = spawn(command!, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => server.once('close', (code) => done(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const status = await fetch(`${base}/health`).then((r) => r.status, () => 0);
        if (status === 200) break;
        if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the server did not come up: ${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // The image's HEALTHCHECK command itself.
      const healthcheck = last(runtime, 'HEALTHCHECK')!.args;
      const [probe, ...probeArgs] = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim());
      expect(spawnSync(probe!, probeArgs, { env, timeout: 10_000 }).status).toBe(0);
      // An error page: templates/ and locales/ (French).
      const page = await fetch(`${base}/auth`, { headers: { 'accept-language': 'fr' } });
      expect(page.status).toBe(400);
      const html = await page.text();
      expect(html).toContain('<html lang="fr">');
      expect(html).toContain('Une erreur est survenue');
      expect((await fetch(`${base}/assets/style.css`)).status).toBe(200);
      expect((await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as unknown).toMatchObject({ issuer: base });
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // The CLI of the image (bin/trusty.mjs runs dist/trusty-cli.mjs where the sources are absent),
    // on the database the server made (signing keys included).
    const cli = spawnSync('node', ['bin/trusty.mjs', 'keys', 'list'], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/ES256\s+active/);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml through Debian's docker-compose (1.29): no engine needed for `config`.

const COMPOSE_PACKAGE = 'docker-compose is not installed: apt-get install docker-compose (Debian)';
const composeMissing = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).error !== undefined;

/** The resolved compose file, with only the given variables set (none of the caller's leak in). */
function composeConfig(variables: Record<string, string>, ...extraFiles: string[]): Record<string, any> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...variables };
  const files = ['docker-compose.yml', ...extraFiles].flatMap((f) => ['-f', f]);
  const result = spawnSync('docker-compose', [...files, 'config'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  expect(result.error, COMPOSE_PACKAGE).toBeUndefined();
  expect(result.status, result.stderr).toBe(0);
  return parse(result.stdout) as Record<string, any>;
}

/** `127.0.0.1:8081:8081` or { host_ip, published, target } (compose v1 and v2 print either): "host_ip:published:target". */
function ports(service: Record<string, any>): string[] {
  return (service.ports as unknown[]).map((p) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${(p as any).host_ip ? `${(p as any).host_ip}:` : ''}${(p as any).published}:${(p as any).target}`));
}

/** `source:target[:mode]` or { source, target } → "source:target". */
function volumes(service: Record<string, any>): string[] {
  return (service.volumes as unknown[]).map((v) => (typeof v === 'string' ? v.split(':').slice(0, 2).join(':') : `${(v as any).source}:${(v as any).target}`));
}

/** The configuration the server would load in the container: the shipped file, the image's ENV, the service's environment. */
function serverConfig(service: Record<string, any>) {
  const env = { ...envOf(runtime), ...(service.environment as Record<string, string>) };
  return parseConfig(readFileSync(join(ROOT, 'config.yaml'), 'utf8'), `${runtimeDir}/config.yaml`, env);
}

describe('docker-compose.yml (docker-compose config)', () => {
  // Locally a machine without docker-compose skips; CI must have it (.ci/run installs it).
  const skipIfMissing = (skip: (note: string) => void) => {
    if (composeMissing && !process.env.CI) {
      process.stderr.write(`container.test.ts: ${COMPOSE_PACKAGE}; skipping the compose checks\n`);
      skip(COMPOSE_PACKAGE);
    }
  };

  it('starts trusty from the Dockerfile with the shipped config, port 8081, the named volume and a loopback issuer', ({ skip }) => {
    skipIfMissing(skip);
    const resolved = composeConfig({});
    const service = resolved.services.trusty;
    expect(service.build.context).toBe(ROOT);
    // Loopback only: what reaches the container from elsewhere comes through a proxy (docs/container.md).
    expect(ports(service)).toEqual(['127.0.0.1:8081:8081']);
    expect(service.read_only).toBe(true);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.security_opt).toEqual(['no-new-privileges:true']);
    expect(volumes(service)).toContain('trusty-data:/data');
    expect(Object.keys(resolved.volumes)).toContain('trusty-data');
    // The shipped config.yaml, read-only, where the server looks for it (its working directory).
    expect(volumes(service)).toContain(`${join(ROOT, 'config.yaml')}:${runtimeDir}/config.yaml`);
    const mount: unknown = service.volumes.find((v: unknown) => JSON.stringify(v).includes(`${runtimeDir}/config.yaml`));
    expect(typeof mount === 'string' ? mount.endsWith(':ro') : (mount as { read_only?: boolean }).read_only).toBe(true);
    expect(service.environment.ISSUER).toBe('http://localhost:8081');
    expect(service.restart).toBe('unless-stopped');
    // The image's tini is the init: a second one (init: true) would only add a process.
    expect(service.init).toBeUndefined();
    // What the server would make of it: valid, listening where the port mapping points.
    const config = serverConfig(service);
    expect(config.issuer).toBe('http://localhost:8081');
    expect(config.port).toBe(8081);
    expect(config.host).toBe('0.0.0.0');
    expect(config.trust_proxy).toEqual([]);
    expect(config.database.path).toBe('/data/trusty.db');
  });

  it('publishes TRUSTY_PORT and the issuer follows it; LOG_LEVEL passes through', ({ skip }) => {
    skipIfMissing(skip);
    const service = composeConfig({ TRUSTY_PORT: '9000', LOG_LEVEL: 'warn' }).services.trusty;
    expect(ports(service)).toEqual(['127.0.0.1:9000:8081']);
    expect(service.environment).toMatchObject({ ISSUER: 'http://localhost:9000', LOG_LEVEL: 'warn' });
    expect(serverConfig(service)).toMatchObject({ issuer: 'http://localhost:9000', port: 8081, log_level: 'warn' });
  });

  it("takes docs/container.md's production override: an https issuer behind a trusted proxy", ({ skip }) => {
    skipIfMissing(skip);
    const doc = readFileSync(join(ROOT, 'docs/container.md'), 'utf8');
    // The override file the document shows, as it shows it.
    const override = /```yaml\n# docker-compose\.override\.yml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(override, 'docs/container.md shows a docker-compose.override.yml').toBeDefined();
    const file = join(work, 'docker-compose.override.yml');
    writeFileSync(file, override!);
    const service = composeConfig({}, file).services.trusty;
    const config = serverConfig(service);
    expect(config.issuer).toMatch(/^https:\/\//);
    expect(config.trust_proxy.length).toBeGreaterThan(0);
    expect(volumes(service)).toContain('trusty-data:/data');
  });
});
