import type { DnFormat } from '../identity/client-identity.interface';
import type { ForwardedCertHeader } from '../identity/forwarded/forwarded-certificate';
import type { ClientCertRequirement } from '../policy/client-cert-policy';
import type { MtlsPemSource } from './pem-source.interface';

// Declared where they are used (identity reads DNs and forwarded headers); options name them from here too.
export type { DnFormat, ForwardedCertHeader };

/**
 * Options of MtlsModule. Names follow Dropwizard's HTTPS connector so a Java
 * team can port its YAML; every option also reads from an `MTLS_*` variable
 * (see `mtlsOptionsFromEnv`).
 */
export interface MtlsOptions {
  /**
   * TLS material your code supplies (memory, a secrets manager, a workload
   * API) instead of the files below: `{ name, read(), changed? }`, see
   * MtlsPemSource. Checked exactly as files are, at startup and at every
   * change. Set it in code only (no `MTLS_*` variable: it is an object); it
   * excludes keyStorePath, certPath, keyPath, trustStorePath,
   * intermediatesPath and crlPath.
   */
  source?: MtlsPemSource;
  /** Key store with our private key and certificate chain: PKCS#12 (.p12/.pfx), JKS, or PEM (key + chain in one file). */
  keyStorePath?: string;
  /** Password of the key store (and of the key entry in JKS/PKCS#12). */
  keyStorePassword?: string;
  /** `PKCS12`, `JKS` or `PEM`; sniffed from the file's content when not given. */
  keyStoreType?: KeyStoreType;
  /** Alias of the key entry to use in a store with more than one. */
  certAlias?: string;
  /** Split PEM alternative to a key store: certificate chain, leaf first (cert-manager's tls.crt). */
  certPath?: string;
  /** Split PEM alternative to a key store: private key (cert-manager's tls.key). */
  keyPath?: string;
  /** Passphrase of an encrypted PEM private key. */
  keyPassphrase?: string;
  /** The CAs we trust, and nothing else: PEM bundle, PKCS#12 or JKS. Public roots are never used. */
  trustStorePath?: string;
  /** Password of a PKCS#12 or JKS trust store. */
  trustStorePassword?: string;
  /** `PKCS12`, `JKS` or `PEM`; sniffed from the file's content when not given. */
  trustStoreType?: KeyStoreType;
  /**
   * Intermediate CA certificates (PEM) used to build the path of a client
   * certificate a trusted proxy forwarded without its chain (nginx's
   * `$ssl_client_escaped_cert`, Envoy's XFCC without `chain: true`), next to
   * our own chain's intermediates. They never add trust: the path must still
   * end at a CA of `trustStorePath`. Part of the live material (reloaded).
   */
  intermediatesPath?: string;
  /**
   * One or more CRL files (PEM with one or more CRLs, or one DER CRL each), part of
   * the live material: re-read when they change and applied to new handshakes
   * without a restart. Each CRL must be signed by a CA we know (the trust store
   * or our own chain). Which CAs need one: see `crlCheck`.
   */
  crlPath?: string | string[];
  /**
   * What is checked against CRLs: `chain` (default): every certificate of the
   * client's chain, so every CA needs a current CRL; `leaf`: the client
   * certificate only, so only its issuer needs one.
   */
  crlCheck?: CrlCheck;
  /**
   * Dropwizard's switch for CRL distribution points: download the CRLs named by
   * the HTTP URLs in the CRL Distribution Points extension of client
   * certificates (and of our CAs), verify and cache them, refresh them before
   * their nextUpdate, and refuse revoked callers right after the handshake.
   * Only URLs on allowed hosts are fetched (see `revocationAllowedHosts`).
   */
  enableCRLDP?: boolean;
  /** Where downloaded CRLs are also kept on disk, so a restart does not depend on the CRL server. Off by default (memory only). */
  crlCacheDir?: string;
  /**
   * Ask an OCSP responder about each client certificate (the responder of the
   * certificate's Authority Information Access, on an allowed host (see
   * `revocationAllowedHosts`), or `ocspResponderUrl`), right after the
   * handshake; answers must echo our nonce (see `ocspNonce`) and are cached
   * per certificate until their nextUpdate (without one, at most
   * `ocspMaxAgeMs` and `revocationRefreshMs`).
   */
  ocsp?: boolean;
  /** The OCSP responder to ask instead of the one each certificate names (Dropwizard's `ocspResponderUrl`). An `http:` URL. */
  ocspResponderUrl?: string;
  /**
   * Send a nonce with each OCSP query and refuse an answer that does not
   * echo it (default true): nothing else proves an answer is not an old one
   * replayed. false: for a responder that cannot echo nonces; then an answer
   * whose thisUpdate is older than `ocspMaxAgeMs` is refused.
   */
  ocspNonce?: boolean;
  /**
   * The oldest an OCSP answer may be, in ms (default 300000): without a nonce
   * (`ocspNonce: false`) an answer whose thisUpdate is older is refused, and
   * none is used once it is; an answer without nextUpdate is never used
   * longer than this, with or without a nonce. It is how long a revoked
   * certificate can stay admitted through a replayed answer.
   */
  ocspMaxAgeMs?: number;
  /**
   * More hosts CRLs (enableCRLDP) and OCSP answers (ocsp) may be fetched
   * from, as `host` (port 80) or `host:port`. By default only the hosts that
   * our own chain and the trust store name in their CRL distribution points
   * and OCSP responders, and `ocspResponderUrl`'s, are asked: a URL a client
   * certificate names on any other host is not fetched (its status is
   * unknown), so a certificate cannot make the service send requests to
   * internal addresses.
   */
  revocationAllowedHosts?: string[];
  /**
   * When the revocation status of a client certificate cannot be learned (the
   * CRL server or OCSP responder is down, a CRL is past its nextUpdate):
   * `closed` (default) refuses the connection, `open` admits it with a warning.
   * Both log the reason.
   */
  revocationFailure?: RevocationFailure;
  /**
   * The longest a downloaded CRL or an OCSP answer is used before it is asked
   * for again, in ms (default 300000), even when its nextUpdate is later: how
   * soon a revocation reaches callers that stay connected.
   */
  revocationRefreshMs?: number;
  /** Time a CRL download or an OCSP query may take, in ms (default 5000); then its status is unknown. */
  revocationTimeoutMs?: number;
  /** Demand a client certificate in the handshake (default true). false = request but do not require ("want"). */
  needClientAuth?: boolean;
  /**
   * Dropwizard's `validatePeers` (Jetty's `validatePeerCerts`): `false` turns
   * revocation checking of client certificates off (CRL files, CRL
   * distribution points, OCSP), and the revocation settings are then refused
   * at startup. Default true. Either way the client's chain is verified
   * against the trust store in the handshake: no setting lets an unverified
   * certificate through.
   */
  validatePeers?: boolean;
  /** Fail fast at startup unless our own chain verifies against the trust store (default true). */
  validateCerts?: boolean;
  /** Allowed protocol versions (default TLSv1.2, TLSv1.3). Anything older is refused as a setting. */
  supportedProtocols?: string[];
  /** Allowed cipher suites, IANA (`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`) or OpenSSL names. Default: OpenSSL's. */
  supportedCipherSuites?: string[];
  /**
   * The key-exchange groups offered and accepted, server and client, most
   * preferred first, as OpenSSL names: one colon-separated list
   * (`X25519MLKEM768:X25519`, as `MTLS_GROUPS` takes it) or an array. Default:
   * OpenSSL's own list (on Node 24, OpenSSL 3.5: X25519MLKEM768 first, then
   * X25519 and the NIST curves). `X25519MLKEM768` alone requires post-quantum
   * hybrid key exchange: peers without it fail the handshake. Over TLS 1.2
   * the list also limits the curves of ECDSA certificates (a P-256 client
   * certificate needs `secp256r1` in it); TLS 1.3 does not mix the two. Every
   * name must be known to the running OpenSSL (checked at startup). The
   * negotiated group: `@TlsConnection('keyExchangeGroup')`.
   */
  groups?: string | string[];
  /** Allow client-initiated renegotiation over TLS 1.2 (default false). */
  allowRenegotiation?: boolean;
  /** Time a client gets to finish the TLS handshake, in ms (default 10000). */
  handshakeTimeoutMs?: number;
  /**
   * Time a connection gets, after its handshake, to send a complete request
   * header, in ms (default 10000); then it is closed. Without it, a client that
   * completes the handshake (in want mode, without a certificate) and sends
   * nothing would hold its connection forever.
   */
  requestHeaderTimeoutMs?: number;
  /**
   * Time a client gets to send a whole request, header and body, in ms
   * (default 300000, Node's own; 1000 to 86400000); then it is answered 408
   * and the connection closed. The same on Express and Fastify (whose own
   * default is none): a body dripped a byte at a time cannot hold a
   * connection forever.
   */
  requestTimeoutMs?: number;
  /**
   * OpenSSL security level, 2 to 5 (default 2), for the server and the client, TLS 1.2 and 1.3:
   * the weakest key a peer (and we) may use. 2: RSA ≥ 2048 bits, EC ≥ 224 (we demand P-256 of our own key);
   * 3: RSA ≥ 3072, and no suites without forward secrecy; 4: RSA ≥ 7680, EC ≥ P-384; 5: RSA ≥ 15360, EC ≥ P-521.
   */
  securityLevel?: number;
  /**
   * Watch the directories of the configured files and reload the material
   * when they change (default true): rewrites, renames, and Kubernetes'
   * atomic `..data` symlink swap in a mounted secret. SIGHUP always reloads.
   */
  watch?: boolean;
  /** Re-read the material every so many ms anyway (1000 to 86400000); off by default. */
  reloadIntervalMs?: number;
  /**
   * What a route without `@RequireClientCert` admits when ClientCertGuard
   * guards it anyway (registered globally as `APP_GUARD`): `any-verified`
   * (default) admits any verified certificate; `deny` admits nobody, so every
   * route must say who may call it (`@RequireAnyClientCert()` for "any
   * verified certificate").
   */
  defaultPolicy?: DefaultPolicy;
  /**
   * `enforce` (default): ClientCertGuard refuses callers its policies refuse.
   * `audit`: it logs and counts them (`outcome: 'audited'` in
   * `MtlsEvents.guardDecisions`) and lets them in, so a policy can be
   * tightened safely. `@ClientCertMode()` on a controller or handler wins.
   * A missing or unverified certificate is refused in both modes.
   */
  policyMode?: PolicyMode;
  /**
   * Take the caller's certificate from this header when a trusted proxy
   * (`trustedProxy`) terminates TLS in front of the service:
   * `x-forwarded-client-cert` (Envoy, Istio: the last element, its `Cert`
   * and `Chain`) or `client-cert` (RFC 9440, with `client-cert-chain`). The
   * forwarded certificate is verified again against our trust store, its
   * validity and, when CRLs are given, revocation. From any other peer the
   * header is ignored and removed from the request.
   */
  forwardedCertHeader?: ForwardedCertHeader;
  /**
   * Who may forward a certificate in `forwardedCertHeader`: what the direct
   * peer's own verified certificate must match, as for `@RequireClientCert`
   * (a subject DN regex, a rule such as `{ spiffeId: 'spiffe://example.org/envoy' }`,
   * or a policy). From the environment: a DN regex, or a JSON rule when the
   * value starts with `{`.
   */
  trustedProxy?: ClientCertRequirement;
  /**
   * `HTTPS`: the client certificate must name the address the client
   * connects from, as an IP SAN or as a DNS SAN that resolves to it (Java's
   * `endpointIdentificationAlgorithm`, which the article sets). DNS answers
   * are cached for 30 s; the check runs once per connection. Callers that
   * fail it are refused with 403 (the reason goes to the log).
   */
  endpointIdentification?: EndpointIdentification;
  /**
   * How subject and issuer DNs are written, wherever nest-mtls shows or matches
   * them (policies, logs, `@ClientCert('subject')`, the ClientIdentity):
   * - `rfc4514` (default): as `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb`
   *   prints them (`CN=api,O=Example`); a DN regex given as a string is a
   *   JavaScript regex that searches the DN, as a RegExp does;
   * - `jdk`: as Java's `X509Certificate.getSubjectDN().getName()` prints them
   *   (`CN=api, O=Example`), the string the article's Dropwizard filter
   *   matches; a DN regex given as a string is a Java regex that must match the
   *   WHOLE DN (`Matcher.matches()`), so Dropwizard regexes carry over as they
   *   are. Java syntax JavaScript cannot match exactly (possessive quantifiers,
   *   atomic groups, `\p{...}`, ...) stops startup, naming it. A RegExp
   *   (`/^CN=api,/`) stays a JavaScript regex that searches, in either form.
   */
  dnFormat?: DnFormat;
}

/** Which certificates of a client's chain are checked against CRLs. */
export type CrlCheck = 'chain' | 'leaf';

/** What happens when a client certificate's revocation status cannot be learned. */
export type RevocationFailure = 'closed' | 'open';

/** What routes without a policy admit under a global ClientCertGuard. */
export type DefaultPolicy = 'any-verified' | 'deny';

/** Whether ClientCertGuard enforces its policies or only reports what it would refuse. */
export type PolicyMode = 'enforce' | 'audit';

/** Endpoint identification algorithms: `HTTPS` only (any case is accepted), as Java's. */
export type EndpointIdentification = 'HTTPS';

/** The store formats nest-mtls reads (as Java 9+, JKS and PKCS12 read each other). */
export type KeyStoreType = 'PKCS12' | 'JKS' | 'PEM';

/** Options after defaults and validation: what the rest of the library reads. */
export interface ResolvedMtlsOptions extends MtlsOptions {
  needClientAuth: boolean;
  validatePeers: boolean;
  validateCerts: boolean;
  supportedProtocols: TlsProtocol[];
  allowRenegotiation: boolean;
  handshakeTimeoutMs: number;
  requestHeaderTimeoutMs: number;
  requestTimeoutMs: number;
  watch: boolean;
  securityLevel: SecurityLevel;
  crlCheck: CrlCheck;
  enableCRLDP: boolean;
  ocsp: boolean;
  ocspNonce: boolean;
  ocspMaxAgeMs: number;
  revocationFailure: RevocationFailure;
  revocationRefreshMs: number;
  revocationTimeoutMs: number;
  defaultPolicy: DefaultPolicy;
  policyMode: PolicyMode;
  dnFormat: DnFormat;
  /** Cipher suites as OpenSSL names, in the order given; undefined = OpenSSL's default list. */
  cipherSuitesOpenSsl?: string[];
  /** `groups` as one OpenSSL list (Node's `ecdhCurve`), checked against the running OpenSSL; undefined = OpenSSL's default list. */
  groupList?: string;
}

/** The protocol versions that may be enabled: nothing older than TLS 1.2. */
export type TlsProtocol = 'TLSv1.2' | 'TLSv1.3';

/** The OpenSSL security levels MtlsModule accepts (1 and 0 admit 1024-bit RSA keys and are refused). */
export type SecurityLevel = 2 | 3 | 4 | 5;

/** The options that have an `MTLS_*` variable: all but `source` (an object, given in code). */
export type MtlsEnvOption = Exclude<keyof MtlsOptions, 'source'>;
