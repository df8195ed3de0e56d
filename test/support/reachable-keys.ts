import { KeyObject } from 'node:crypto';

/** Every value reachable from `root` (own properties, symbols included, and the elements of arrays, maps and sets). */
function* reachable(root: unknown, seen = new Set<unknown>()): Generator<unknown> {
  if (root === null || (typeof root !== 'object' && typeof root !== 'function') || seen.has(root)) {
    if (typeof root !== 'object' && typeof root !== 'function') yield root;
    return;
  }
  seen.add(root);
  yield root;
  const children: unknown[] = [];
  if (root instanceof Map) children.push(...root.keys(), ...root.values());
  if (root instanceof Set) children.push(...root.values());
  for (const key of Reflect.ownKeys(root)) {
    const descriptor = Object.getOwnPropertyDescriptor(root, key);
    if (descriptor && 'value' in descriptor) children.push(descriptor.value);
  }
  for (const child of children) yield* reachable(child, seen);
}

/** What of `root` gives a private key away: a private KeyObject, or text or bytes holding a PEM private key. */
export function keysIn(root: unknown): string[] {
  const found: string[] = [];
  for (const value of reachable(root)) {
    if (value instanceof KeyObject && value.type === 'private') found.push('a private KeyObject');
    if (typeof value === 'string' && /PRIVATE KEY-----/.test(value)) found.push(`PEM text: ${value.slice(0, 40)}...`);
  }
  return found;
}
