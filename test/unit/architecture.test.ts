import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The layer rules of STYLE.md, checked on every import of every source file. */
const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every import specifier of a file: static, type-only, re-exports and dynamic imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map(
    (m) => (m[1] ?? m[2] ?? m[3])!,
  );
}

/** The top-level folder under src/ an import lands in, or the package name. */
function target(file: string, specifier: string): { layer?: string; pkg?: string } {
  if (specifier.startsWith('.')) return { layer: relative(SRC, resolve(dirname(file), specifier)).split('/')[0] };
  if (specifier.startsWith('node:')) return { pkg: specifier };
  const parts = specifier.split('/');
  return { pkg: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
}

const FRAMEWORK = ['fastify', 'fastify-plugin', 'kysely', 'better-sqlite3', 'handlebars', 'i18next', 'pino', 'bcrypt', 'yaml', 'zod'];
const isFramework = (pkg: string) => FRAMEWORK.includes(pkg) || pkg.startsWith('@fastify/');

function violations(layer: string, forbiddenLayers: string[], forbidPackage: (pkg: string) => boolean): string[] {
  return sourceFiles(join(SRC, layer)).flatMap((file) =>
    importsOf(file)
      .filter((specifier) => {
        const { layer: to, pkg } = target(file, specifier);
        return (to !== undefined && forbiddenLayers.includes(to)) || (pkg !== undefined && forbidPackage(pkg));
      })
      .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
  );
}

describe('layers (STYLE.md: domain and protocol stay pure)', () => {
  it('finds the source files and their imports', () => {
    expect(sourceFiles(join(SRC, 'protocol')).length).toBeGreaterThan(5);
    expect(importsOf(join(SRC, 'protocol/dpop.ts'))).toContain('jose');
  });

  it('domain/ imports no framework, no storage and no other layer', () => {
    expect(violations('domain', ['application', 'infrastructure', 'http', 'config', 'protocol'], (pkg) => isFramework(pkg) || pkg === 'jose')).toEqual([]);
  });

  it('protocol/ imports no framework, no storage and nothing above it (jose is allowed)', () => {
    expect(violations('protocol', ['application', 'infrastructure', 'http', 'config'], isFramework)).toEqual([]);
  });

  it('application/ imports neither http/ nor infrastructure/, nor the web framework or the database', () => {
    expect(violations('application', ['http', 'infrastructure', 'config'], isFramework)).toEqual([]);
  });

  it('cli/ calls application services (built by container.ts): no SQL, no storage adapters, no HTTP layer', () => {
    expect(violations('cli', ['infrastructure', 'http'], (pkg) => pkg === 'kysely' || pkg === 'better-sqlite3' || pkg === 'fastify')).toEqual([]);
  });

  it('infrastructure/ does not depend on http/', () => {
    expect(violations('infrastructure', ['http'], () => false)).toEqual([]);
  });
});
