// Each package is used only through what it exports (`exports` in its package.json, a bare `@lab/…`
// import): no file outside a package reaches into its src/ by a relative path, where an internal
// rename would break code that the package never promised anything to.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The directories that hold a package.json under packages/ and services/. */
function packageDirs(): string[] {
  return ['packages', 'services'].flatMap((parent) =>
    readdirSync(join(repoRoot, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, parent, entry.name, 'package.json')))
      .map((entry) => join(repoRoot, parent, entry.name)),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers of static imports and exports, side-effect imports, and import() with a string literal. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const match of source.matchAll(pattern)) found.push((match[1] ?? match[2] ?? match[3])!);
  return found;
}

describe('package boundaries', () => {
  it('no file outside a package imports that package\'s files by a relative path, nor a subpath of it', () => {
    const packages = packageDirs();
    assert.ok(packages.length >= 6, packages.join(' '));
    const owner = (path: string) => packages.find((dir) => path === dir || path.startsWith(dir + sep)) ?? null;
    const crossings: string[] = [];
    for (const file of sourceFiles(repoRoot)) {
      const from = owner(file);
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        if (/^@lab\/[^/]+\/./.test(specifier)) crossings.push(`${relative(repoRoot, file)} imports ${specifier} (a subpath, not the package)`);
        if (!specifier.startsWith('.')) continue;
        const target = owner(resolve(dirname(file), specifier));
        if (target && target !== from) crossings.push(`${relative(repoRoot, file)} imports ${specifier} (inside ${relative(repoRoot, target)})`);
      }
    }
    assert.deepEqual(crossings, []);
  });

  it('each package declares in its package.json every lab package it imports (its tests may use devDependencies)', () => {
    const missing: string[] = [];
    for (const dir of packageDirs()) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      for (const file of sourceFiles(dir)) {
        const test = file.endsWith('.test.ts');
        const declared = { ...manifest.dependencies, ...(test ? manifest.devDependencies : {}) };
        for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
          const name = /^@lab\/[^/]+/.exec(specifier)?.[0];
          if (name && name !== manifest.name && !(name in declared)) missing.push(`${relative(repoRoot, file)} imports ${name}, not in ${manifest.name}'s ${test ? 'dependencies or devDependencies' : 'dependencies'}`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it('finds a crossing when there is one (the check itself)', () => {
    assert.deepEqual(specifiers(`import { x } from '../services/client/src/report.ts';\nexport * from "./a.ts";\nconst m = await import('./b.ts');\nimport '../c.ts';`), [
      '../services/client/src/report.ts',
      './a.ts',
      './b.ts',
      '../c.ts',
    ]);
  });
});
