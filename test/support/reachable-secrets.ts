import { KeyObject } from 'node:crypto';

/**
 * Every value reachable from `root` by walking it as any code could: own
 * properties (symbol-keyed and non-enumerable ones included, getters not
 * called), and the elements of arrays, maps and sets. Closures and WeakMaps
 * cannot be walked, by anyone.
 */
export function* reachable(root: unknown, seen = new Set<unknown>()): Generator<unknown> {
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

/**
 * What of `root` gives the private key away: a private KeyObject, or text
 * (a string or a Buffer) holding a PEM private key; and any of `secrets`
 * (passwords, passphrases) found as a string or in a Buffer.
 */
export function keysIn(root: unknown, secrets: string[] = []): string[] {
  const found: string[] = [];
  for (const value of reachable(root)) {
    if (value instanceof KeyObject && value.type === 'private') found.push('a private KeyObject');
    const text = typeof value === 'string' ? value : Buffer.isBuffer(value) && value.length < 1 << 20 ? value.toString('latin1') : undefined;
    if (text === undefined) continue;
    if (/PRIVATE KEY-----/.test(text)) found.push(`PEM text: ${text.slice(0, 40)}...`);
    for (const secret of secrets) if (text.includes(secret)) found.push(`the secret ${JSON.stringify(secret)}`);
  }
  return found;
}
