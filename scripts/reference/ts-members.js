// Reads declarations of libs/mtls/src with the TypeScript compiler API: the
// members of an interface (or of the object types of a type alias) with their
// type as written and their doc comment, and the doc comment of a declaration.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const ts = require('typescript');

const SRC = join(__dirname, '..', '..', 'libs', 'mtls', 'src');
const sources = new Map();

function sourceFile(file) {
  if (!sources.has(file)) {
    const text = readFileSync(join(SRC, file), 'utf8');
    sources.set(file, ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  }
  return sources.get(file);
}

/** The doc comment of a node as plain text (`/** ... *\/` without the stars, `{@link X}` as `X`), '' when it has none. */
function docOf(node) {
  const ranges = ts.getLeadingCommentRanges(node.getSourceFile().text, node.getFullStart()) ?? [];
  const docs = ranges.map((r) => node.getSourceFile().text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  if (docs.length === 0) return '';
  return docs[docs.length - 1]
    .replace(/^\/\*\*\s?/, '')
    .replace(/\s*\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .replace(/\{@link\s+([^}|\s]+)[^}]*\}/g, '`$1`')
    .trim();
}

function findDeclaration(file, name) {
  const found = sourceFile(file).statements.find(
    (s) => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isFunctionDeclaration(s) || ts.isVariableStatement(s) || ts.isClassDeclaration(s)) && declaredName(s) === name,
  );
  if (!found) throw new Error(`${name} is not declared in libs/mtls/src/${file}: update scripts/reference`);
  return found;
}

function declaredName(statement) {
  if (ts.isVariableStatement(statement)) return statement.declarationList.declarations[0].name.getText();
  return statement.name?.getText();
}

/** The members of an interface, or of the object literal types of a type alias (`A & { ... }`), in source order. */
function membersOf(file, name) {
  const declaration = findDeclaration(file, name);
  const literals = [];
  const collect = (type) => {
    if (ts.isTypeLiteralNode(type)) literals.push(type);
    else if (ts.isIntersectionTypeNode(type)) type.types.forEach(collect);
  };
  if (ts.isInterfaceDeclaration(declaration)) literals.push(declaration);
  else if (ts.isTypeAliasDeclaration(declaration)) collect(declaration.type);
  return literals
    .flatMap((literal) => literal.members)
    .filter((member) => ts.isPropertySignature(member))
    .map((member) => ({ name: member.name.getText(), type: member.type ? member.type.getText().replace(/\s+/g, ' ') : 'unknown', doc: docOf(member) }));
}

/** The doc comment of a top-level declaration. */
function docOfDeclaration(file, name) {
  return docOf(findDeclaration(file, name));
}

module.exports = { membersOf, docOfDeclaration };
