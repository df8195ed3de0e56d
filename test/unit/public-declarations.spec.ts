import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

const PACKAGE = join(__dirname, '..', '..', 'libs', 'mtls');
const DIST = join(PACKAGE, 'dist');

/** Every entry point of the package with declarations: `exports` of package.json, its CommonJS `types` (the `.d.mts` re-export them). */
function publicEntries(): Array<{ name: string; file: string }> {
  const exports = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')).exports as Record<string, unknown>;
  return Object.entries(exports).flatMap(([key, target]) => {
    const types = (target as { require?: { types?: string } })?.require?.types;
    return types ? [{ name: key === '.' ? 'nest-mtls' : `nest-mtls/${key.slice(2)}`, file: join(PACKAGE, types) }] : [];
  });
}

/** A leak: an exported declaration of `entry` that names `internal`, a declaration of the package no entry point exports. */
interface Leak {
  entry: string;
  exported: string;
  internal: string;
  file: string;
}

/** The symbol a type position names (aliases followed), if it is one. */
function namedSymbol(checker: ts.TypeChecker, node: ts.Node): ts.Symbol | undefined {
  let name: ts.Node | undefined;
  if (ts.isTypeReferenceNode(node)) name = node.typeName;
  else if (ts.isExpressionWithTypeArguments(node)) name = node.expression;
  else if (ts.isTypeQueryNode(node)) name = node.exprName;
  else if (ts.isImportTypeNode(node)) name = node.qualifier;
  if (!name) return undefined;
  if (ts.isQualifiedName(name)) name = name.right;
  else if (ts.isPropertyAccessExpression(name)) name = name.name;
  const symbol = checker.getSymbolAtLocation(name);
  return symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/** A member a user cannot reach: `private x;` (declarations keep no type for it) or a `#private` field. */
function isPrivateMember(node: ts.Node): boolean {
  if (ts.isPrivateIdentifier((node as { name?: ts.Node }).name ?? node)) return true;
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);
}

/**
 * The package's declarations as a stranger's compiler sees them: every
 * type a public declaration names (a parameter, a property, a return type,
 * a base class, `typeof X`, `import("./x").Y`) is itself exported by an
 * entry point, or comes from another package. Otherwise an internal class
 * or type is part of the public API without being in any export list: a
 * user can reach it (and its members) through the public one, and any change
 * to it breaks them.
 */
function leaksOf(entries: Array<{ name: string; file: string }>, root = DIST): Leak[] {
  const program = ts.createProgram(
    entries.map((e) => e.file),
    { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, skipLibCheck: true, types: ['node'], noEmit: true },
  );
  const checker = program.getTypeChecker();
  const exportedBy = new Map<ts.Symbol, Array<{ entry: string; name: string }>>();
  for (const entry of entries) {
    const source = program.getSourceFile(entry.file);
    if (!source) throw new Error(`${entry.file} is not in the program`);
    for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      exportedBy.set(symbol, [...(exportedBy.get(symbol) ?? []), { entry: entry.name, name: exported.name }]);
    }
  }
  const ours = (file: string) => file.startsWith(root);
  const leaks: Leak[] = [];
  for (const [symbol, names] of exportedBy) {
    const { entry, name } = names[0];
    const seen = new Set<ts.Symbol>();
    const visit = (node: ts.Node): void => {
      if (isPrivateMember(node)) return;
      // `implements X` checks the class against X; it adds nothing a user of the class sees.
      if (ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ImplementsKeyword) return;
      const named = namedSymbol(checker, node);
      if (named && !(named.flags & ts.SymbolFlags.TypeParameter) && !exportedBy.has(named)) {
        const declaration = named.declarations?.[0];
        const file = declaration?.getSourceFile().fileName;
        if (declaration && file && ours(file)) {
          // A constant (`class M extends MtlsConfigurableModule`, made by Nest's ConfigurableModuleBuilder): what its type names is what counts.
          if (ts.isVariableDeclaration(declaration)) {
            if (!seen.has(named)) {
              seen.add(named);
              visit(declaration);
            }
          } else leaks.push({ entry, exported: name, internal: named.name, file: relative(root, file) });
        }
      }
      ts.forEachChild(node, visit);
    };
    for (const declaration of symbol.declarations ?? []) if (ours(declaration.getSourceFile().fileName)) visit(declaration);
  }
  return leaks;
}

describe('the public declarations (libs/mtls/dist, built by npm test)', () => {
  const entries = publicEntries();

  it('cover every entry point of package.json', () => {
    expect(entries.length).toBeGreaterThanOrEqual(5);
    for (const entry of entries) expect(existsSync(entry.file)).toBe(true);
  });

  it('name no type that an entry point does not export (no internal class reaches a user through a public one)', () => {
    const described = leaksOf(entries).map((l) => `${l.entry}: ${l.exported} names ${l.internal} (${l.file})`);
    expect([...new Set(described)].sort()).toEqual([]);
  });

  it('finds an internal class named by a public constructor, a base class (or a constant\'s type), a property (a control)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'public-declarations-'));
    try {
      writeFileSync(
        join(dir, 'internal.d.ts'),
        'export declare class Engine { run(): void; }\nexport interface Index { size: number; }\nexport declare class Base {}\nexport interface Checked { ok(): void; }\n' +
          'export declare const ModuleBase: { new (): { helper: Engine } };\nexport declare const PlainBase: { new (): object };\n',
      );
      writeFileSync(
        join(dir, 'public.d.ts'),
        "import { Engine, Index, Base, Checked, ModuleBase, PlainBase } from './internal';\n" +
          'export declare class Serving extends Base implements Checked { private readonly hidden; constructor(engine: Engine); ok(): void; }\n' +
          'export interface Loaded { index: Index; }\n' +
          'export declare class Module extends ModuleBase {}\nexport declare class Plain extends PlainBase {}\n',
      );
      const leaks = leaksOf([{ name: 'control', file: join(dir, 'public.d.ts') }], dir);
      // Not `implements Checked`, not PlainBase (a constant whose type names nothing of ours); ModuleBase's type names Engine.
      expect(leaks.map((l) => `${l.exported} names ${l.internal}`).sort()).toEqual(['Loaded names Index', 'Module names Engine', 'Serving names Base', 'Serving names Engine']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
