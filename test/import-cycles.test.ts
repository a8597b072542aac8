// No import cycles among the packages' sources (type-only imports included: a cycle through a type
// still ties two files' meanings together). Reads every .ts file under packages/*/src and
// packages/*/test-support, follows relative imports and re-exports, and reports each cycle found.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers';

const SOURCE_ROOTS = ['packages/core/src', 'packages/core/test-support', 'packages/cli/src', 'packages/web/src'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The files a source imports or re-exports from, by relative specifier (resolved to .ts files). */
function relativeImports(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  const targets: string[] = [];
  for (const spec of specifiers) {
    const base = resolve(dirname(file), spec);
    for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
      try {
        if (statSync(candidate).isFile()) {
          targets.push(candidate);
          break;
        }
      } catch {
        // not this candidate
      }
    }
  }
  return targets;
}

/** Every cycle of the import graph, each as a list of files (the first repeated at the end). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('import graph', () => {
  test('the cycle finder reports a cycle, and none in a tree', () => {
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
    expect(
      findCycles(
        new Map([
          ['a', ['b', 'c']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
  });

  test('relativeImports follows imports, type imports and re-exports', () => {
    const file = join(ROOT, 'packages/core/src/index.ts');
    const targets = relativeImports(file, "import type { A } from './config';\nexport { B } from './errors';\nimport x from 'fflate';");
    expect(targets.map((t) => relative(ROOT, t))).toEqual(['packages/core/src/config.ts', 'packages/core/src/errors.ts']);
  });

  test('no package source imports itself through a cycle', () => {
    const files = SOURCE_ROOTS.flatMap((root) => tsFiles(join(ROOT, root)));
    expect(files.length).toBeGreaterThan(50);
    const graph = new Map(files.map((file) => [file, relativeImports(file, readFileSync(file, 'utf8'))]));
    const cycles = findCycles(graph).map((cycle) => cycle.map((f) => relative(ROOT, f)).join(' -> '));
    expect(cycles).toEqual([]);
  });
});
