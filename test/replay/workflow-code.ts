// What the workflow code is, read statically from its sources: the modules the workflow bundle is made of, a
// fingerprint of what they execute, the patch ids they use and the activities they can schedule. The recorder
// stores the fingerprint beside each history set; guard.test.ts compares all of it with the saved histories.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const WORKFLOWS_ENTRY = path.join(REPO_ROOT, 'src/workflows/index.ts');

const rel = (file: string, root = REPO_ROOT) => path.relative(root, file).split(path.sep).join('/');

/** The sources without types and comments: what the bundle executes (type-only imports are gone too). */
function transpile(file: string): string {
  return ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      removeComments: true,
      isolatedModules: true,
    },
  }).outputText;
}

function resolveRelative(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base])
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
  throw new Error(`${rel(from)} imports ${spec}, which is no TypeScript file of the repository`);
}

function jsFile(file: string): ts.SourceFile {
  return ts.createSourceFile(file, transpile(file), ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
}

/** The relative module specifier of an import or export declaration, if it has one. */
const specifierOf = (st: ts.Statement): string | undefined => {
  const spec =
    (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier
      ? (st.moduleSpecifier as ts.StringLiteral).text
      : undefined;
  return spec?.startsWith('.') ? spec : undefined;
};

/**
 * The repository's modules in the workflow bundle: the entry and whatever it imports for values, transitively
 * (packages such as @temporalio/workflow are not followed: their version is recorded separately).
 */
export function workflowModules(entry = WORKFLOWS_ENTRY): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const st of jsFile(file).statements) {
      const spec = specifierOf(st);
      if (spec) visit(resolveRelative(file, spec));
    }
  };
  visit(entry);
  return [...seen].sort();
}

/**
 * A statement's syntax tree as text: node kinds plus the text of identifiers, literals and template parts.
 * Comments, formatting and (the input being transpiled) types do not show; any change to what runs does.
 */
function shapeOf(node: ts.Node): string {
  const out: string[] = [];
  const walk = (n: ts.Node): void => {
    out.push(ts.SyntaxKind[n.kind] ?? String(n.kind));
    if (
      ts.isIdentifier(n) ||
      ts.isPrivateIdentifier(n) ||
      ts.isLiteralExpression(n) ||
      ts.isTemplateHead(n) ||
      ts.isTemplateMiddle(n) ||
      ts.isTemplateTail(n)
    )
      out.push(JSON.stringify(n.text));
    // What a node holds as a plain value instead of a child node: `!x` and `-x`, `let` and `const`.
    if (ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) out.push(ts.SyntaxKind[n.operator]);
    if (ts.isVariableDeclarationList(n))
      out.push(String(n.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const | ts.NodeFlags.Using)));
    if (ts.isMetaProperty(n)) out.push(ts.SyntaxKind[n.keywordToken]);
    out.push('(');
    ts.forEachChild(n, walk);
    out.push(')');
  };
  walk(node);
  return out.join(' ');
}

/** The top-level names a statement declares (an import's local names included). */
function declaredNames(st: ts.Statement): string[] {
  const names: string[] = [];
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) names.push(n.text);
    else for (const el of n.elements) if (!ts.isOmittedExpression(el)) bind(el.name);
  };
  if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) bind(d.name);
  else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) names.push(st.name.text);
  else if (ts.isImportDeclaration(st) && st.importClause) {
    const c = st.importClause;
    if (c.name) names.push(c.name.text);
    const b = c.namedBindings;
    if (b && ts.isNamespaceImport(b)) names.push(b.name.text);
    if (b && ts.isNamedImports(b)) for (const el of b.elements) names.push(el.name.text);
  }
  return names;
}

const identifiersIn = (node: ts.Node): Set<string> => {
  const ids = new Set<string>();
  const walk = (n: ts.Node): void => {
    if (ts.isIdentifier(n)) ids.add(n.text);
    ts.forEachChild(n, walk);
  };
  walk(node);
  return ids;
};

/**
 * Which statements of each module the workflows can execute. The workflow modules (the entry's directory)
 * count whole; of any other module (src/shared) only the declarations the workflows reach, following names
 * through imports and re-exports, plus its statements that run for their effect. So a type, a comment or a
 * helper in src/shared that only the worker or the CLI use does not change the fingerprint.
 */
function executedStatements(entry: string): Map<string, ts.Statement[]> {
  const workflowDir = path.dirname(entry);
  const files = workflowModules(entry);
  const sfs = new Map(files.map((f) => [f, jsFile(f)]));
  const whole = new Set(files.filter((f) => path.dirname(f) === workflowDir));
  const included = new Map<string, Set<ts.Statement>>(files.map((f) => [f, new Set()]));
  const wanted = new Set<string>();
  const queue: [string, string | '*'][] = [];
  const include = (file: string, st: ts.Statement): void => {
    const set = included.get(file)!;
    if (set.has(st)) return;
    set.add(st);
    const spec = specifierOf(st);
    if (spec) {
      const target = resolveRelative(file, spec);
      const clause = ts.isImportDeclaration(st)
        ? st.importClause?.namedBindings
        : ts.isExportDeclaration(st)
          ? st.exportClause
          : undefined;
      if (clause && (ts.isNamedImports(clause) || ts.isNamedExports(clause)))
        for (const el of clause.elements) queue.push([target, (el.propertyName ?? el.name).text]);
      else queue.push([target, '*']);
    }
    // Names of the same module the statement refers to (over-approximated by every identifier in it).
    const local = identifiersIn(st);
    for (const other of sfs.get(file)!.statements)
      if (declaredNames(other).some((n) => local.has(n))) include(file, other);
  };
  for (const file of whole) for (const st of sfs.get(file)!.statements) include(file, st);
  while (queue.length > 0) {
    const [file, name] = queue.shift()!;
    if (wanted.has(`${file}#${name}`)) continue;
    wanted.add(`${file}#${name}`);
    for (const st of sfs.get(file)!.statements) {
      const spec = specifierOf(st);
      if (name !== '*' && spec && ts.isExportDeclaration(st) && !st.exportClause) {
        // `export * from './y'` may be where the name comes from: look for it there, not for all of y.
        included.get(file)!.add(st);
        queue.push([resolveRelative(file, spec), name]);
        continue;
      }
      const effect =
        !ts.isVariableStatement(st) && !ts.isFunctionDeclaration(st) && !ts.isClassDeclaration(st);
      const reexport = ts.isExportDeclaration(st);
      const named =
        reexport && st.exportClause && ts.isNamedExports(st.exportClause)
          ? st.exportClause.elements.map((el) => el.name.text)
          : undefined;
      if (
        name === '*' ||
        declaredNames(st).includes(name) ||
        (reexport && (named ? named.includes(name) : true)) ||
        (effect && !ts.isImportDeclaration(st) && !reexport)
      )
        include(file, st);
    }
  }
  return new Map(
    files.map((f) => [f, sfs.get(f)!.statements.filter((st) => included.get(f)!.has(st))] as const),
  );
}

export interface WorkflowCodeFingerprint {
  /** sha256 over what every module executes, in path order. */
  hash: string;
  /** Per module (repository-relative path): the first 12 hex digits of its own part, to say what changed. */
  modules: Record<string, string>;
  /** @temporalio/workflow's version: a new SDK may replay differently, so it is shown beside the code. */
  sdk: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** entry: src/workflows/index.ts of a repository (tests pass a copy); module paths are relative to its root. */
export function workflowCodeFingerprint(entry = WORKFLOWS_ENTRY): WorkflowCodeFingerprint {
  const root = path.resolve(path.dirname(entry), '../..');
  const modules: Record<string, string> = {};
  const whole = createHash('sha256');
  for (const [file, statements] of executedStatements(entry)) {
    if (statements.length === 0) continue;
    const shape = statements.map(shapeOf).join('\n');
    modules[rel(file, root)] = sha256(shape).slice(0, 12);
    whole.update(`${rel(file, root)}\n${shape}\n`);
  }
  const sdk = (
    JSON.parse(
      readFileSync(require.resolve('@temporalio/workflow/package.json', { paths: [REPO_ROOT] }), 'utf8'),
    ) as { version: string }
  ).version;
  return { hash: whole.digest('hex'), modules, sdk };
}

function sourceFile(file: string): ts.SourceFile {
  return ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
    ts.ScriptKind.TS,
  );
}

function nodes(sf: ts.SourceFile): ts.Node[] {
  const all: ts.Node[] = [];
  const walk = (n: ts.Node): void => {
    all.push(n);
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return all;
}

const where = (n: ts.Node) => {
  const sf = n.getSourceFile();
  return `${rel(sf.fileName)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
};

const calleeName = (call: ts.CallExpression): string | undefined =>
  ts.isIdentifier(call.expression) ? call.expression.text : undefined;

/** `export const X = { key: 'literal', … } as const` objects of the modules, by name. */
function constObjects(sfs: ts.SourceFile[]): Map<string, Map<string, string>> {
  const found = new Map<string, Map<string, string>>();
  for (const sf of sfs)
    for (const n of nodes(sf)) {
      if (!ts.isVariableDeclaration(n) || !ts.isIdentifier(n.name) || !n.initializer) continue;
      let init: ts.Expression = n.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
      if (!ts.isObjectLiteralExpression(init)) continue;
      const values = new Map<string, string>();
      for (const p of init.properties)
        if (ts.isPropertyAssignment(p) && ts.isStringLiteralLike(p.initializer))
          values.set(p.name.getText(), p.initializer.text);
      if (values.size > 0) found.set(n.name.text, values);
    }
  return found;
}

export interface PatchUse {
  id: string;
  deprecated: boolean;
  at: string;
}

/**
 * Every `patched(…)` and `deprecatePatch(…)` in the workflow modules, with its id: a string literal or a
 * property of a constant object (`PATCHES.localSync`). Anything else throws: the guard must see every id.
 */
export function patchUses(files = workflowModules()): PatchUse[] {
  const sfs = files.map(sourceFile);
  const consts = constObjects(sfs);
  const uses: PatchUse[] = [];
  for (const sf of sfs)
    for (const n of nodes(sf)) {
      if (!ts.isCallExpression(n)) continue;
      const name = calleeName(n);
      if (name !== 'patched' && name !== 'deprecatePatch') continue;
      const arg = n.arguments[0];
      let id: string | undefined;
      if (arg && ts.isStringLiteralLike(arg)) id = arg.text;
      else if (arg && ts.isPropertyAccessExpression(arg) && ts.isIdentifier(arg.expression))
        id = consts.get(arg.expression.text)?.get(arg.name.text);
      if (id === undefined)
        throw new Error(
          `${where(n)}: ${n.getText()} — its patch id is neither a string literal nor a property of a ` +
            'constant object (such as PATCHES.x), so the history guard cannot check it',
        );
      uses.push({ id, deprecated: name === 'deprecatePatch', at: where(n) });
    }
  return uses;
}

/** The values of the constant objects whose name ends in PATCHES (the declared patch ids). */
export function declaredPatchIds(files = workflowModules()): string[] {
  const consts = constObjects(files.map(sourceFile));
  return [...consts].filter(([name]) => /PATCHES$/.test(name)).flatMap(([, values]) => [...values.values()]);
}

export interface ActivityUse {
  name: string;
  local: boolean;
  at: string;
}

const PROXIES = { proxyActivities: false, proxyLocalActivities: true } as const;
const proxyKind = (call: ts.CallExpression): boolean | undefined => {
  const name = calleeName(call);
  return name !== undefined && name in PROXIES ? PROXIES[name as keyof typeof PROXIES] : undefined;
};

/**
 * The activity types the workflow modules can schedule: the names destructured from `proxyActivities(…)` or
 * `proxyLocalActivities(…)`, directly or from a local factory function that returns such a proxy
 * (`const walk = (q) => proxyActivities({ taskQueue: q, … })`). A proxy used any other way throws.
 */
export function activityUses(files = workflowModules()): ActivityUse[] {
  const sfs = files.map(sourceFile);
  const uses: ActivityUse[] = [];
  for (const sf of sfs) {
    const all = nodes(sf);
    const factories = new Map<string, boolean>();
    const accounted = new Set<ts.Node>();
    for (const n of all) {
      if (!ts.isCallExpression(n)) continue;
      const local = proxyKind(n);
      if (local === undefined) continue;
      // A factory: `const f = (…) => proxyActivities(…)`.
      const fn = n.parent;
      if (ts.isArrowFunction(fn) && fn.body === n && ts.isVariableDeclaration(fn.parent)) {
        if (ts.isIdentifier(fn.parent.name)) {
          factories.set(fn.parent.name.text, local);
          accounted.add(n);
        }
      }
    }
    for (const n of all) {
      if (!ts.isVariableDeclaration(n) || !ts.isObjectBindingPattern(n.name) || !n.initializer) continue;
      if (!ts.isCallExpression(n.initializer)) continue;
      const call = n.initializer;
      const name = calleeName(call);
      const local = proxyKind(call) ?? (name === undefined ? undefined : factories.get(name));
      if (local === undefined) continue;
      accounted.add(call);
      for (const el of n.name.elements) {
        const key = el.propertyName ?? el.name;
        if (!ts.isIdentifier(key)) throw new Error(`${where(el)}: an activity name the guard cannot read`);
        uses.push({ name: key.text, local, at: where(el) });
      }
    }
    for (const n of all)
      if (ts.isCallExpression(n) && proxyKind(n) !== undefined && !accounted.has(n))
        throw new Error(
          `${where(n)}: an activity proxy that is not destructured, so the history guard cannot tell which ` +
            'activities it schedules: write `const { a, b } = proxyActivities(…)`',
        );
  }
  return uses;
}
