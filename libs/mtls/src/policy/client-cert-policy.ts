import type { ClientIdentity } from '../identity/client-identity.interface';

/**
 * A small predicate over a verified client identity. Policies compose
 * (`anyOf`, `allOf`), in the manner of go-spiffe's authorizers.
 */
export type ClientCertPolicy = (identity: ClientIdentity) => boolean;

/** One value, or a list of them (any may match). */
export type OneOrMany<T> = T | T[];

/**
 * A declarative rule over a certificate: every field given must match;
 * within a list, any entry may. Strings compare exactly (DNS names and e-mail
 * domains without regard to case), RegExps test. Every value is checked when
 * the rule is compiled (when `@RequireClientCert` is applied, when MtlsModule
 * starts): a malformed SPIFFE ID, CIDR block or fingerprint throws, naming it.
 */
export interface ClientCertRule {
  /**
   * Regex over the subject DN string, as `mtls inspect` prints it (in the
   * module's `dnFormat`). A RegExp searches: anchor it, `/^CN=api,O=Example$/`.
   * A string does too under `rfc4514`; under `jdk` it is a Java regex that
   * must match the whole DN: `'CN=api, O=Example'`.
   */
  subject?: RegExp | string;
  /** Regex over the issuing CA's DN (the certificate's issuer), e.g. `/^CN=Payments Issuing CA,/`; a string reads as for `subject`. */
  issuer?: RegExp | string;
  /** The (most specific) CN of the subject, unescaped: `'home-page-service'`. */
  cn?: OneOrMany<string | RegExp>;
  /** Any OU of the subject, unescaped: `'payments'`. */
  ou?: OneOrMany<string | RegExp>;
  /** DNS names in the subject alternative names (strings compare without regard to case). */
  dns?: OneOrMany<string | RegExp>;
  /** URIs in the subject alternative names. */
  uri?: OneOrMany<string | RegExp>;
  /** E-mail addresses (rfc822Name) in the subject alternative names (the domain compares without regard to case). */
  email?: OneOrMany<string | RegExp>;
  /**
   * IP addresses in the subject alternative names: an address (`10.1.2.3`,
   * `2001:db8::7`) or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`); IPv4-mapped
   * IPv6 addresses (`::ffff:10.1.2.3`) count as their IPv4 address.
   */
  ip?: OneOrMany<string>;
  /**
   * SPIFFE IDs, compared whole: `spiffe://example.org/home-page-service`
   * admits neither `.../home-page-service-evil` nor `.../home-page-service/x`.
   * A trailing `/*` admits every ID below that path, by whole segments:
   * `spiffe://example.org/ns/prod/*` admits `.../ns/prod/sa/web`, never
   * `.../ns/production`. The certificate's SPIFFE ID counts only when it is
   * an X509-SVID (exactly one URI SAN).
   */
  spiffeId?: OneOrMany<string | RegExp>;
  /** SPIFFE trust domains (`example.org`, or `spiffe://example.org`): every SPIFFE ID of the domain. */
  spiffeTrustDomain?: OneOrMany<string>;
  /** Pinned SHA-256 fingerprints: 64 hex digits, either case, with or without colons between the pairs. */
  fingerprint256?: OneOrMany<string>;
}

/** What `@RequireClientCert` accepts: a DN regex (or its source), a rule, or a policy function. */
export type ClientCertRequirement = RegExp | string | ClientCertRule | ClientCertPolicy;
