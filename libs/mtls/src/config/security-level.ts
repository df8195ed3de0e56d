import type { SecurityLevel } from './mtls-options.interface';

/** What one OpenSSL security level demands of a key. */
export interface SecurityLevelMinimum {
  /** Bits of security (NIST SP 800-57), as OpenSSL counts them. */
  bits: number;
  /** Smallest RSA (and DSA) modulus, in bits. */
  rsa: number;
  /** Smallest EC curve, in bits: at least P-256 at every level we accept (OpenSSL itself takes 224 at level 2). */
  ec: number;
}

/**
 * The weakest keys each accepted security level lets through, ours and the
 * peer's. Levels 3 and up also refuse cipher suites without forward secrecy
 * and disable TLS session tickets (OpenSSL's SSL_CTX_set_security_level(3)).
 */
export const SECURITY_LEVEL_MINIMUMS: Readonly<Record<SecurityLevel, SecurityLevelMinimum>> = {
  2: { bits: 112, rsa: 2048, ec: 256 },
  3: { bits: 128, rsa: 3072, ec: 256 },
  4: { bits: 192, rsa: 7680, ec: 384 },
  5: { bits: 256, rsa: 15360, ec: 512 },
};

/** `P-256`, `P-384`, `P-521` for a minimum curve size. */
export function curveName(bits: number): string {
  return bits > 384 ? 'P-521' : `P-${bits}`;
}
