import type { KeyObject, X509Certificate } from 'node:crypto';

/** The certificates without repeats (same SHA-256 fingerprint), first occurrence kept. */
export function distinctCertificates(certs: Iterable<X509Certificate>): X509Certificate[] {
  const seen = new Set<string>();
  const out: X509Certificate[] = [];
  for (const c of certs) {
    if (seen.has(c.fingerprint256)) continue;
    seen.add(c.fingerprint256);
    out.push(c);
  }
  return out;
}

/** True when `issuer` issued `cert`: names match (checkIssued) and its key verifies the signature. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The chain of `leaf`: the leaf, then its issuer, then that one's issuer, ...,
 * each taken from `pool` (checkIssued + signature verify). Stops at a
 * self-signed certificate or when no issuer is in the pool; no certificate twice.
 */
export function orderChain(leaf: X509Certificate, pool: Iterable<X509Certificate>): X509Certificate[] {
  const candidates = distinctCertificates(pool);
  const chain = [leaf];
  const used = new Set([leaf.fingerprint256]);
  let current = leaf;
  while (!isIssuedBy(current, current)) {
    const issuer = candidates.find((c) => !used.has(c.fingerprint256) && isIssuedBy(current, c));
    if (!issuer) break;
    chain.push(issuer);
    used.add(issuer.fingerprint256);
    current = issuer;
  }
  return chain;
}

/** True when `key` is the private key of `cert`. */
export function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}
