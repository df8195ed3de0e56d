import { createSecureContext } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';

/**
 * TLS key-exchange groups by their IANA code point (TLS Supported Groups
 * registry), named as OpenSSL 3.5 names them (`SSL_group_to_name`): the
 * names the negotiated group is reported under. A group missing here is
 * reported as `0x` and its code point, and counted as `other`.
 */
export const KEY_EXCHANGE_GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0017, 'secp256r1'],
  [0x0018, 'secp384r1'],
  [0x0019, 'secp521r1'],
  [0x001a, 'brainpoolP256r1'],
  [0x001b, 'brainpoolP384r1'],
  [0x001c, 'brainpoolP512r1'],
  [0x001d, 'X25519'],
  [0x001e, 'X448'],
  [0x001f, 'brainpoolP256r1tls13'],
  [0x0020, 'brainpoolP384r1tls13'],
  [0x0021, 'brainpoolP512r1tls13'],
  [0x0100, 'ffdhe2048'],
  [0x0101, 'ffdhe3072'],
  [0x0102, 'ffdhe4096'],
  [0x0103, 'ffdhe6144'],
  [0x0104, 'ffdhe8192'],
  [0x0200, 'MLKEM512'],
  [0x0201, 'MLKEM768'],
  [0x0202, 'MLKEM1024'],
  [0x11eb, 'SecP256r1MLKEM768'],
  [0x11ec, 'X25519MLKEM768'],
  [0x11ed, 'SecP384r1MLKEM1024'],
]);

/** Other names OpenSSL and Node use for the same groups (Node's getEphemeralKeyInfo says `prime256v1`). */
const ALIASES: Readonly<Record<string, string>> = {
  'p-256': 'secp256r1',
  prime256v1: 'secp256r1',
  'p-384': 'secp384r1',
  'p-521': 'secp521r1',
};

const CANONICAL = new Map([...KEY_EXCHANGE_GROUP_NAMES.values()].map((name) => [name.toLowerCase(), name]));

/** The name a group is reported under (`prime256v1` and `P-256` are `secp256r1`); undefined for a group not in the table. */
export function canonicalGroupName(name: string): string | undefined {
  const lower = name.toLowerCase();
  return CANONICAL.get(ALIASES[lower] ?? lower);
}

/**
 * The `groups` option as Node's `ecdhCurve` takes it (`X25519MLKEM768:X25519`):
 * given as one OpenSSL list (colons, or commas) or as an array of names. Every
 * name must be one the running OpenSSL knows, tried one by one so that the
 * error names the one it does not know, with the OpenSSL version (a name
 * such as X25519MLKEM768 is new in OpenSSL 3.5). Checked once, at startup.
 */
export function resolveGroups(groups: string | string[]): string {
  const names = (Array.isArray(groups) ? groups : [groups])
    .flatMap((entry) => entry.split(/[:,]/))
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) throw new MtlsConfigError('groups', 'names no key-exchange group (e.g. X25519MLKEM768:X25519)');
  for (const name of names) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw new MtlsConfigError('groups', `"${name.slice(0, 64)}" is not a key-exchange group name (OpenSSL names such as X25519MLKEM768, X25519, secp256r1, separated by colons; OpenSSL 3.5's ?, *, / and - prefixes and tuples are not taken)`);
    if (name.toLowerCase() === 'auto') throw new MtlsConfigError('groups', 'leave groups unset for OpenSSL\'s default list; "auto" is not a group');
    try {
      createSecureContext({ ecdhCurve: name });
    } catch {
      throw new MtlsConfigError('groups', `unknown key-exchange group "${name}": OpenSSL ${process.versions.openssl} (Node ${process.version}) does not offer it`);
    }
  }
  const list = [...new Set(names)].join(':');
  try {
    createSecureContext({ ecdhCurve: list });
  } catch {
    throw new MtlsConfigError('groups', `OpenSSL ${process.versions.openssl} refuses the list "${list}" as a whole`);
  }
  return list;
}
