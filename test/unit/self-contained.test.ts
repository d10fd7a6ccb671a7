import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEVDESK_FIXTURES_DIR, SEVDESK_SPEC_PATH } from '../fixtures';

// A plain clone has no ../shared beside it: nothing in the project may read the reference notes, the spec or
// the fixtures from there (they are copied into test/fixtures/sevdesk). This scans the project's own text.
const root = path.resolve(__dirname, '..', '..');
const SCANNED = ['src', 'test', 'bench', 'chaos', 'scripts', 'bin', '.ci', 'docs'];
const FILES = [
  'package.json',
  'vitest.config.mts',
  'tsconfig.json',
  'Dockerfile',
  'docker-compose.yml',
  'README.md',
];
const SKIPPED = new Set(['node_modules', 'histories', 'results']);
const TEXT = /\.(ts|mts|js|mjs|cjs|json|md|sh|ya?ml)$|^[^.]+$/;

const outside = [
  // A relative path that climbs to a `shared` folder holding the notes (`../shared` inside src/ is src/shared).
  new RegExp(String.raw`(\.\./)+shared/(sevdesk|DESIGN\.md|STYLE\.md|seed|hooks)`),
  // path.resolve(root, '..', then 'shared', …) and the like.
  new RegExp(String.raw`['"]\.\.['"]\s*,\s*['"]shared['"]`),
  new RegExp(String.raw`['"]shared['"]\s*,\s*['"]sevdesk['"]`),
  new RegExp(['', 'work', 'shared'].join('/')),
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIPPED.has(name)) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...files(full));
    else if (TEXT.test(name) && full !== __filename) out.push(full);
  }
  return out;
}

describe('the repository stands on its own', () => {
  it('reads nothing from ../shared', () => {
    const scanned = [
      ...SCANNED.map((d) => path.join(root, d)).flatMap((d) => (exists(d) ? files(d) : [])),
      ...FILES.map((f) => path.join(root, f)).filter(exists),
    ];
    expect(scanned.length).toBeGreaterThan(100);
    const hits: string[] = [];
    for (const file of scanned) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (outside.some((re) => re.test(line)))
            hits.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('has the spec and the fixtures the tests read', () => {
    expect(statSync(SEVDESK_SPEC_PATH).size).toBe(672_122);
    expect(readdirSync(SEVDESK_FIXTURES_DIR).sort()).toEqual([
      'README.md',
      'communication_way_list.json',
      'contact_address_list.json',
      'contact_list.json',
      'error_404.json',
      'invoice_list.json',
      'openapi.yaml',
      'real',
    ]);
    expect(readdirSync(path.join(SEVDESK_FIXTURES_DIR, 'real'))).toContain('README.md');
  });

  it('catches a path that reaches for ../shared', () => {
    // Built from parts, so that this file does not itself look like one that reaches outside.
    const up = '../' + 'shared';
    const bad = [
      `path.resolve(__dirname, '../../${up}/${'sevdesk'}/fixtures')`,
      `path.resolve(repoRoot, '..', '${'shared'}', 'sevdesk', 'openapi.yaml')`,
      `See [${up}/${'DESIGN'}.md](${up}/DESIGN.md)`,
    ];
    for (const line of bad)
      expect(
        outside.some((re) => re.test(line)),
        line,
      ).toBe(true);
    const fine = [
      `import { SOURCE_SEVDESK } from '../shared';`,
      `import type { X } from '../../src/shared';`,
    ];
    for (const line of fine)
      expect(
        outside.some((re) => re.test(line)),
        line,
      ).toBe(false);
  });
});

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
