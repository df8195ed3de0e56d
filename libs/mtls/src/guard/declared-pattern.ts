/** Nest's metadata key of @MessagePattern / @EventPattern (read without loading @nestjs/microservices). */
const PATTERN_METADATA = 'microservices:pattern';

/**
 * The label of a message whose pattern matches none of its handler's
 * declared ones: one bucket, however many such patterns arrive (Nest's own
 * routing never gets here; a custom transport might).
 */
export const UNDECLARED_PATTERN = '(undeclared pattern)';

/** A handler's declared patterns: their labels, and by their canonical form when there are several. */
interface Declared {
  labels: string[];
  byCanonical?: Map<string, string>;
}

const declaredByHandler = new WeakMap<object, Declared | null>();

/**
 * The pattern a message handler DECLARED (`@MessagePattern({ cmd: 'get_user' })`
 * gives `{"cmd":"get_user"}`, the label /policies shows), never the text the
 * peer sent: Nest routes `{ "cmd" : "get_user" }` and every other spelling of
 * the same JSON to the same handler, and a label or log key made of the raw
 * text would grow with every spelling. A handler with one pattern gets its
 * label without reading the message; with several, the pattern sent (the
 * RPC context's `getPattern()`) is matched by its canonical form (keys sorted, as Nest routes), and one that
 * matches none is {@link UNDECLARED_PATTERN}. Undefined for a handler
 * without declared patterns.
 */
export function declaredPatternOf(handler: object, rpc: { getPattern?: () => unknown } | undefined): string | undefined {
  let declared = declaredByHandler.get(handler);
  if (declared === undefined) {
    declared = readDeclared(handler);
    declaredByHandler.set(handler, declared);
  }
  if (declared === null) return undefined;
  if (!declared.byCanonical) return declared.labels[0];
  const sent = typeof rpc?.getPattern === 'function' ? rpc.getPattern() : undefined;
  return declared.byCanonical.get(canonicalOfSent(sent)) ?? UNDECLARED_PATTERN;
}

function readDeclared(handler: object): Declared | null {
  const metadata = Reflect.getMetadata?.(PATTERN_METADATA, handler) as unknown;
  if (metadata === undefined) return null;
  const patterns = Array.isArray(metadata) ? metadata : [metadata];
  if (patterns.length === 0) return null;
  const labels = patterns.map(patternLabel);
  if (labels.length === 1) return { labels };
  return { labels, byCanonical: new Map(patterns.map((p, i) => [canonical(p), labels[i]])) };
}

/** How a declared pattern is shown (as MtlsPolicyInventory shows it): a string as is, anything else as JSON. */
export function patternLabel(pattern: unknown): string {
  return typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
}

/** The pattern a peer sent (a string, JSON or not), in canonical form. */
function canonicalOfSent(sent: unknown): string {
  if (typeof sent !== 'string') return canonical(sent);
  try {
    return canonical(JSON.parse(sent));
  } catch {
    return canonical(sent);
  }
}

/** JSON with object keys sorted, at most 5 levels deep: one spelling per pattern. */
function canonical(value: unknown, depth = 0): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value === null || typeof value !== 'object' || depth > 5) return String(value);
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalValue((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
}

function canonicalValue(value: unknown, depth: number): string {
  return typeof value === 'string' ? JSON.stringify(value) : canonical(value, depth);
}
