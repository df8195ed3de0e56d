import type { MtlsEnvOption } from './mtls-options.interface';

/** How the text of a variable becomes an option value. */
export type EnvKind = 'string' | 'boolean' | 'list' | 'paths' | 'int';

/**
 * The one table of `MTLS_*` variables: the variable of each option (every
 * option but `source` has one, the type says so), and below it the few variables that are
 * not options. A name with the `MTLS_` prefix that is in neither list stops
 * startup (a typo must not silently weaken the setup): add new ones here.
 * Deployments rely on these exact names.
 */
/** Options set in code only, with no variable: `source` (an object with functions). */
export const MTLS_CODE_ONLY_OPTIONS: readonly string[] = ['source'];

export const MTLS_ENV: Readonly<Record<MtlsEnvOption, [variable: string, kind: EnvKind]>> = {
  keyStorePath: ['MTLS_KEY_STORE_PATH', 'string'],
  keyStorePassword: ['MTLS_KEY_STORE_PASSWORD', 'string'],
  keyStoreType: ['MTLS_KEY_STORE_TYPE', 'string'],
  certAlias: ['MTLS_CERT_ALIAS', 'string'],
  certPath: ['MTLS_CERT_PATH', 'string'],
  keyPath: ['MTLS_KEY_PATH', 'string'],
  keyPassphrase: ['MTLS_KEY_PASSPHRASE', 'string'],
  trustStorePath: ['MTLS_TRUST_STORE_PATH', 'string'],
  trustStorePassword: ['MTLS_TRUST_STORE_PASSWORD', 'string'],
  trustStoreType: ['MTLS_TRUST_STORE_TYPE', 'string'],
  intermediatesPath: ['MTLS_INTERMEDIATES_PATH', 'string'],
  crlPath: ['MTLS_CRL_PATH', 'paths'],
  crlCheck: ['MTLS_CRL_CHECK', 'string'],
  enableCRLDP: ['MTLS_ENABLE_CRLDP', 'boolean'],
  crlCacheDir: ['MTLS_CRL_CACHE_DIR', 'string'],
  ocsp: ['MTLS_OCSP', 'boolean'],
  ocspResponderUrl: ['MTLS_OCSP_RESPONDER_URL', 'string'],
  ocspNonce: ['MTLS_OCSP_NONCE', 'boolean'],
  ocspMaxAgeMs: ['MTLS_OCSP_MAX_AGE_MS', 'int'],
  revocationAllowedHosts: ['MTLS_REVOCATION_ALLOWED_HOSTS', 'list'],
  revocationFailure: ['MTLS_REVOCATION_FAILURE', 'string'],
  revocationRefreshMs: ['MTLS_REVOCATION_REFRESH_MS', 'int'],
  revocationTimeoutMs: ['MTLS_REVOCATION_TIMEOUT_MS', 'int'],
  needClientAuth: ['MTLS_NEED_CLIENT_AUTH', 'boolean'],
  validatePeers: ['MTLS_VALIDATE_PEERS', 'boolean'],
  validateCerts: ['MTLS_VALIDATE_CERTS', 'boolean'],
  supportedProtocols: ['MTLS_SUPPORTED_PROTOCOLS', 'list'],
  supportedCipherSuites: ['MTLS_SUPPORTED_CIPHER_SUITES', 'list'],
  groups: ['MTLS_GROUPS', 'string'],
  allowRenegotiation: ['MTLS_ALLOW_RENEGOTIATION', 'boolean'],
  handshakeTimeoutMs: ['MTLS_HANDSHAKE_TIMEOUT_MS', 'int'],
  requestHeaderTimeoutMs: ['MTLS_REQUEST_HEADER_TIMEOUT_MS', 'int'],
  requestTimeoutMs: ['MTLS_REQUEST_TIMEOUT_MS', 'int'],
  securityLevel: ['MTLS_SECURITY_LEVEL', 'int'],
  watch: ['MTLS_WATCH', 'boolean'],
  reloadIntervalMs: ['MTLS_RELOAD_INTERVAL_MS', 'int'],
  defaultPolicy: ['MTLS_DEFAULT_POLICY', 'string'],
  policyMode: ['MTLS_POLICY_MODE', 'string'],
  forwardedCertHeader: ['MTLS_FORWARDED_CERT_HEADER', 'string'],
  trustedProxy: ['MTLS_TRUSTED_PROXY', 'string'],
  endpointIdentification: ['MTLS_ENDPOINT_IDENTIFICATION', 'string'],
  dnFormat: ['MTLS_DN_FORMAT', 'string'],
};

/** The variable of MtlsAdminModule's `expiryWarningDays` (nest-mtls/admin). */
export const MTLS_EXPIRY_WARNING_DAYS = 'MTLS_EXPIRY_WARNING_DAYS';

/** The variables of `spiffeWorkloadApiSourceFromEnv` (nest-mtls/spiffe): the switch, then one per option of the source. */
export const MTLS_SPIFFE_ENV = {
  enabled: 'MTLS_SPIFFE',
  spiffeId: 'MTLS_SPIFFE_ID',
  staleAfterMs: 'MTLS_SPIFFE_STALE_AFTER_MS',
  startupTimeoutMs: 'MTLS_SPIFFE_STARTUP_TIMEOUT_MS',
} as const;

/**
 * Where the SPIFFE Workload API listens: the standard variable of the SPIFFE
 * Workload Endpoint specification (SPIRE, go-spiffe and spiffe-helper read
 * it too), so it has no `MTLS_` name of its own.
 */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

/** `MTLS_*` variables that are not MtlsModule options, and what reads them. */
export const MTLS_ENV_NOT_OPTIONS: Readonly<Record<string, string>> = {
  MTLS_DEV_PKI: 'mtlsOptionsWithDevPki (nest-mtls/dev-pki): true opts in to the development PKI (refused with NODE_ENV=production), false opts out',
  MTLS_DEV_PKI_DIR: 'mtlsOptionsWithDevPki (nest-mtls/dev-pki): where the development PKI lives (default ./.dev-pki)',
  [MTLS_EXPIRY_WARNING_DAYS]: 'mtlsAdminOptionsFromEnv (nest-mtls/admin): /health warns when our certificate has fewer days left (default 14)',
  [MTLS_SPIFFE_ENV.enabled]: 'spiffeWorkloadApiSourceFromEnv (nest-mtls/spiffe): true takes the material from the SPIFFE Workload API at SPIFFE_ENDPOINT_SOCKET',
  [MTLS_SPIFFE_ENV.spiffeId]: 'spiffeWorkloadApiSourceFromEnv (nest-mtls/spiffe): the SPIFFE ID to serve when the Workload API offers several (default the first)',
  [MTLS_SPIFFE_ENV.staleAfterMs]: 'spiffeWorkloadApiSourceFromEnv (nest-mtls/spiffe): how long the Workload API may be unreachable before /health goes down (default 300000)',
  [MTLS_SPIFFE_ENV.startupTimeoutMs]: 'spiffeWorkloadApiSourceFromEnv (nest-mtls/spiffe): how long startup waits for a first X509-SVID (default 30000)',
};

/** Every `MTLS_*` name nest-mtls knows, options first, in table order. */
export const KNOWN_MTLS_VARIABLES: readonly string[] = [
  ...Object.values(MTLS_ENV).map(([variable]) => variable),
  ...Object.keys(MTLS_ENV_NOT_OPTIONS),
];
