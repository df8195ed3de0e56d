import type { ClientIdentity } from '../identity/client-identity.interface';

/**
 * A small predicate over a verified client identity. Policies compose
 * (`anyOf`, `allOf`), in the manner of go-spiffe's authorizers.
 */
export type ClientCertPolicy = (identity: ClientIdentity) => boolean;

/**
 * A declarative rule: every field given must match; within a list, any entry
 * may match. Strings in `dns`/`uri`/`spiffeId` compare exactly; RegExps test.
 */
export interface ClientCertRule {
  /** Regex over the subject DN string (RFC 4514, as `mtls inspect` prints it). */
  subject?: RegExp | string;
  /** DNS names in the subject alternative names. */
  dns?: Array<string | RegExp>;
  /** URIs in the subject alternative names. */
  uri?: Array<string | RegExp>;
  /** SPIFFE IDs (`spiffe://trust-domain/path`). */
  spiffeId?: Array<string | RegExp>;
  /** Pinned SHA-256 fingerprints, hex, with or without colons. */
  fingerprint256?: string[];
}

/** What @RequireClientCert accepts: a DN regex (or its source), a rule, or a policy function. */
export type ClientCertRequirement = RegExp | string | ClientCertRule | ClientCertPolicy;
