// The folder graph of the source tree: `npm run cycles` (dpdm) catches file-level import cycles; this test
// catches what it cannot see, a cycle between folders made of files that do not form one, and checks the
// layering a newcomer reads from the folder names (STYLE.md, DESIGN.md "Layout").
import { relative } from 'node:path';
import { parseDependencyTree } from 'dpdm';
import { beforeAll, describe, expect, it } from 'vitest';

type FolderGraph = Map<string, Set<string>>;

const ROOT = new URL('../..', import.meta.url).pathname;

/** `src/mailbox/poll.ts` → `mailbox`, `src/cli.ts` → `cli`, `workers/…` → `workers`. */
function folderOf(file: string): string | undefined {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] === 'workers') return 'workers';
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return parts.length === 2 ? parts[1]!.replace(/\.[mc]?[jt]s$/, '') : parts[1];
}

async function readFolderGraph(): Promise<FolderGraph> {
  const tree = await parseDependencyTree(['src/**/*.ts', 'workers/**/*.ts'], {
    cwd: ROOT,
    context: ROOT,
    transform: true,
    skipDynamicImports: false,
  });
  const graph: FolderGraph = new Map();
  for (const [file, deps] of Object.entries(tree)) {
    const from = folderOf(file);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const dep of deps ?? []) {
      const to = dep.id && !dep.id.includes('node_modules') ? folderOf(dep.id) : undefined;
      if (to !== undefined && to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the folder path that closes it. */
function folderCycles(graph: FolderGraph): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const walk = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) walk(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) walk(node, []);
  return cycles;
}

describe('folderCycles', () => {
  it('finds a cycle between folders and none in a layered graph', () => {
    const layered: FolderGraph = new Map([
      ['cli', new Set(['ops', 'config'])],
      ['ops', new Set(['config'])],
    ]);
    expect(folderCycles(layered)).toEqual([]);
    const cyclic: FolderGraph = new Map([
      ['ops', new Set(['mailbox'])],
      ['mailbox', new Set(['ledger'])],
      ['ledger', new Set(['ops'])],
    ]);
    expect(folderCycles(cyclic)).toEqual([['ops', 'mailbox', 'ledger', 'ops']]);
  });
});

describe('the source tree', () => {
  let graph: FolderGraph;
  beforeAll(async () => {
    graph = await readFolderGraph();
  }, 60_000);

  it('has no import cycle between folders', () => {
    expect(graph.size).toBeGreaterThan(10);
    expect(folderCycles(graph)).toEqual([]);
  });

  it('src never imports workers/ (workers only wire src together)', () => {
    const importers = [...graph].filter(([, to]) => to.has('workers')).map(([from]) => from);
    expect(importers).toEqual([]);
  });

  it('leaves stand alone: the POP3 client, telemetry and the error catalog import no other folder', () => {
    for (const leaf of ['pop3', 'telemetry', 'errors'])
      expect([leaf, [...(graph.get(leaf) ?? [])]]).toEqual([leaf, []]);
  });
});
