import type { X509Certificate } from 'node:crypto';
import { isIssuedBy } from './certificate-chain';

/**
 * Builds the path from `leaf` up to a trust anchor, using `intermediates` as
 * untrusted helpers. Returns the path (leaf first, anchor last), or the
 * longest partial path when no anchor is reached.
 */
export function buildPath(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  anchors: X509Certificate[],
): { path: X509Certificate[]; anchored: boolean } {
  const path = [leaf];
  for (let depth = 0; depth < 10; depth++) {
    const current = path[path.length - 1];
    const anchor = anchors.find((a) => isIssuedBy(current, a) || current.raw.equals(a.raw));
    if (anchor) {
      if (!current.raw.equals(anchor.raw)) path.push(anchor);
      return { path, anchored: true };
    }
    const next = intermediates.find((c) => !path.includes(c) && isIssuedBy(current, c));
    if (!next) break;
    path.push(next);
  }
  return { path, anchored: false };
}

/** The CN (or whole subject) of a certificate, for messages. */
export function describeCert(cert: X509Certificate): string {
  const cn = /^CN=(.*)$/m.exec(cert.subject);
  return cn ? `CN=${cn[1]}` : cert.subject.replace(/\n/g, ', ');
}
