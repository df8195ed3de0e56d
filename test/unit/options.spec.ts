import { execFileSync } from 'node:child_process';
import { mtlsOptionsFromEnv } from 'nest-mtls';
import { withEnvVariable } from 'nest-mtls/internal';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { IANA_TO_OPENSSL_CIPHER } from 'nest-mtls/internal';
import { configProblem } from '../support/config-problem';


describe('validateMtlsOptions', () => {
  it('applies the secure defaults', () => {
    const o = validateMtlsOptions({ keyStorePath: 'k.p12' });
    expect(o).toMatchObject({
      needClientAuth: true,
      validatePeers: true,
      validateCerts: true,
      allowRenegotiation: false,
      supportedProtocols: ['TLSv1.2', 'TLSv1.3'],
      handshakeTimeoutMs: 10000,
      requestTimeoutMs: 300000,
      securityLevel: 2,
    });
    expect(o.cipherSuitesOpenSsl).toBeUndefined();
  });

  it('takes securityLevel 2 to 5 and refuses anything else, naming the option', () => {
    for (const level of [2, 3, 4, 5]) expect(validateMtlsOptions({ securityLevel: level }).securityLevel).toBe(level);
    for (const bad of [1, 0, 6, -2, 2.5, 'abc', '3']) {
      expect(configProblem(() => validateMtlsOptions({ securityLevel: bad as never }))).toBe(
        `securityLevel: must be a whole number from 2 to 5 (an OpenSSL security level), got ${JSON.stringify(bad)}`,
      );
    }
  });

  it.each(['TLSv1.1', 'TLSv1', 'SSLv3'])('refuses %s as a setting', (p) => {
    expect(configProblem(() => validateMtlsOptions({ supportedProtocols: ['TLSv1.2', p] }))).toBe(
      `supportedProtocols: ${p} is refused: TLSv1.2 is the oldest protocol allowed`,
    );
  });

  it('refuses unknown protocol names and empty lists', () => {
    expect(configProblem(() => validateMtlsOptions({ supportedProtocols: ['TLSv9'] }))).toMatch(/^supportedProtocols: unknown protocol "TLSv9"/);
    expect(configProblem(() => validateMtlsOptions({ supportedProtocols: [] }))).toMatch(/^supportedProtocols: /);
  });

  it('maps IANA cipher names (the article\'s Dropwizard config) to OpenSSL names', () => {
    const o = validateMtlsOptions({
      supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256'],
    });
    expect(o.cipherSuitesOpenSsl).toEqual(['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256']);
  });

  it('refuses unknown and unauthenticated cipher suites', () => {
    expect(configProblem(() => validateMtlsOptions({ supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_999_GCM_SHA384'] }))).toMatch(
      /^supportedCipherSuites: unknown cipher suite "TLS_ECDHE_RSA_WITH_AES_999_GCM_SHA384"/,
    );
    expect(configProblem(() => validateMtlsOptions({ supportedCipherSuites: ['TLS_DH_anon_WITH_AES_256_GCM_SHA384'] }))).toMatch(
      /^supportedCipherSuites: "TLS_DH_anon_WITH_AES_256_GCM_SHA384" is refused/,
    );
  });

  it('takes key-exchange groups as one OpenSSL list or an array, checked against the running OpenSSL', () => {
    expect(validateMtlsOptions({}).groupList).toBeUndefined();
    expect(validateMtlsOptions({ groups: 'X25519:secp384r1' }).groupList).toBe('X25519:secp384r1');
    expect(validateMtlsOptions({ groups: ['X25519', 'P-256', 'X25519'] }).groupList).toBe('X25519:P-256');
    expect(configProblem(() => validateMtlsOptions({ groups: 'X25519:NoSuchGroup' }))).toBe(
      `groups: unknown key-exchange group "NoSuchGroup": OpenSSL ${process.versions.openssl} (Node ${process.version}) does not offer it`,
    );
    expect(configProblem(() => validateMtlsOptions({ groups: '' }))).toMatch(/^groups: must be a colon-separated list of key-exchange group names/);
    expect(configProblem(() => validateMtlsOptions({ groups: [] }))).toMatch(/^groups: must be a colon-separated list/);
    expect(configProblem(() => validateMtlsOptions({ groups: ' : ' }))).toBe('groups: names no key-exchange group (e.g. X25519MLKEM768:X25519)');
    expect(configProblem(() => validateMtlsOptions({ groups: '*X25519MLKEM768/X25519' }))).toMatch(/^groups: "\*X25519MLKEM768\/X25519" is not a key-exchange group name/);
    expect(configProblem(() => validateMtlsOptions({ groups: 'auto' }))).toMatch(/^groups: leave groups unset/);
    expect(configProblem(() => validateMtlsOptions({ group: 'X25519' } as never))).toBe('group: is not an option of MtlsModule; did you mean "groups"?');
  });

  it('names MTLS_GROUPS when the unknown group came from it', () => {
    const env = { MTLS_GROUPS: 'X25519:Bogus' };
    const options = mtlsOptionsFromEnv(env);
    expect(options.groups).toBe('X25519:Bogus');
    let err: unknown;
    try {
      validateMtlsOptions(options);
    } catch (e) {
      err = withEnvVariable(e, options, env);
    }
    expect((err as Error).message).toBe(`MTLS_GROUPS (groups): unknown key-exchange group "Bogus": OpenSSL ${process.versions.openssl} (Node ${process.version}) does not offer it`);
  });

  it('takes the revocation settings, with closed failure and whole-chain CRL checks by default', () => {
    expect(validateMtlsOptions({})).toMatchObject({
      crlCheck: 'chain',
      enableCRLDP: false,
      ocsp: false,
      ocspNonce: true,
      ocspMaxAgeMs: 300000,
      revocationFailure: 'closed',
      revocationRefreshMs: 300000,
      revocationTimeoutMs: 5000,
    });
    const o = validateMtlsOptions({
      crlPath: ['/a.pem', '/b.crl'],
      crlCheck: 'leaf',
      enableCRLDP: true,
      crlCacheDir: '/var/cache/crls',
      ocsp: true,
      ocspResponderUrl: 'http://ocsp.example:8080/',
      revocationFailure: 'open',
    });
    expect(o).toMatchObject({ crlPath: ['/a.pem', '/b.crl'], crlCheck: 'leaf', enableCRLDP: true, ocsp: true, revocationFailure: 'open' });
  });

  it('refuses revocation settings that are wrong or would do nothing, naming the option', () => {
    expect(configProblem(() => validateMtlsOptions({ crlCheck: 'all' } as never))).toMatch(/^crlCheck: must be one of the following values: chain, leaf/);
    expect(configProblem(() => validateMtlsOptions({ revocationFailure: 'soft' } as never))).toMatch(/^revocationFailure: must be one of the following values: closed, open/);
    expect(configProblem(() => validateMtlsOptions({ crlPath: [] }))).toBe('crlPath: must be a file path or a non-empty list of file paths');
    expect(configProblem(() => validateMtlsOptions({ crlPath: ['/a.pem', ''] }))).toBe('crlPath: must be a file path or a non-empty list of file paths');
    expect(configProblem(() => validateMtlsOptions({ enableCRLDP: 'true' } as never))).toMatch(/^enableCRLDP: must be a boolean value/);
    expect(configProblem(() => validateMtlsOptions({ ocsp: true, ocspResponderUrl: 'https://ocsp.example/' }))).toMatch(/^ocspResponderUrl: must be an http: URL/);
    expect(configProblem(() => validateMtlsOptions({ ocsp: true, ocspResponderUrl: 'ocsp.example' }))).toBe('ocspResponderUrl: not a URL: "ocsp.example"');
    expect(configProblem(() => validateMtlsOptions({ ocspResponderUrl: 'http://ocsp.example/' }))).toMatch(/^ocspResponderUrl: is set but ocsp is not true/);
    expect(configProblem(() => validateMtlsOptions({ crlCacheDir: '/tmp/crls' }))).toMatch(/^crlCacheDir: is set but enableCRLDP is not true/);
    expect(configProblem(() => validateMtlsOptions({ revocationTimeoutMs: 10 }))).toMatch(/^revocationTimeoutMs: /);
    expect(configProblem(() => validateMtlsOptions({ revocationRefreshMs: 10 }))).toMatch(/^revocationRefreshMs: /);
  });

  it.each([
    ['crlPath', { crlPath: '/etc/mtls/crl.pem' }],
    ['crlCheck', { crlCheck: 'leaf' }],
    ['enableCRLDP', { enableCRLDP: true }],
    ['crlCacheDir', { crlCacheDir: '/var/cache/crls' }],
    ['ocsp', { ocsp: true }],
    ['ocspResponderUrl', { ocspResponderUrl: 'http://ocsp.example/' }],
    ['revocationFailure', { revocationFailure: 'open' }],
    ['revocationRefreshMs', { revocationRefreshMs: 60_000 }],
    ['revocationTimeoutMs', { revocationTimeoutMs: 1_000 }],
  ] as const)('refuses %s with validatePeers: false (Dropwizard would ignore it), in one line naming both settings', (setting, revocation) => {
    const problem = configProblem(() => validateMtlsOptions({ validatePeers: false, ...revocation }));
    expect(problem).toMatch(new RegExp(`^${setting}: is a revocation setting, but validatePeers is false \\(MTLS_VALIDATE_PEERS=false\\), which turns revocation checking off`));
    expect(problem).not.toContain('\n');
    // The same setting with validatePeers at its default is not this problem.
    expect(() => validateMtlsOptions({ validatePeers: true, ...revocation })).not.toThrow(/validatePeers is false/);
  });

  it('takes validatePeers: false with enableCRLDP and ocsp false (they ask for nothing)', () => {
    expect(validateMtlsOptions({ validatePeers: false, enableCRLDP: false, ocsp: false })).toMatchObject({ validatePeers: false, enableCRLDP: false, ocsp: false });
  });

  it('names the variables when both came from the environment', () => {
    const env = { MTLS_KEY_STORE_PATH: 'k.p12', MTLS_VALIDATE_PEERS: 'false', MTLS_CRL_PATH: '/etc/mtls/crl.pem' };
    let message = '';
    try {
      validateMtlsOptions(mtlsOptionsFromEnv(env));
    } catch (err) {
      message = (withEnvVariable(err, mtlsOptionsFromEnv(env), env) as Error).message;
    }
    expect(message).toMatch(/^MTLS_CRL_PATH \(crlPath\): is a revocation setting, but validatePeers is false \(MTLS_VALIDATE_PEERS=false\)/);
  });

  it('takes ocspNonce and ocspMaxAgeMs with ocsp only, and refuses a misspelling or a value out of range', () => {
    expect(validateMtlsOptions({ ocsp: true, ocspNonce: false, ocspMaxAgeMs: 60_000 })).toMatchObject({ ocspNonce: false, ocspMaxAgeMs: 60_000 });
    expect(configProblem(() => validateMtlsOptions({ ocspNonce: false }))).toMatch(/^ocspNonce: is set but ocsp is not true/);
    expect(configProblem(() => validateMtlsOptions({ ocspMaxAgeMs: 60_000 }))).toMatch(/^ocspMaxAgeMs: is set but ocsp is not true/);
    expect(configProblem(() => validateMtlsOptions({ ocsp: true, ocspNonce: 'false' } as never))).toMatch(/^ocspNonce: must be a boolean value/);
    expect(configProblem(() => validateMtlsOptions({ ocsp: true, ocspMaxAgeMs: 999 }))).toMatch(/^ocspMaxAgeMs: must not be less than 1000/);
    expect(configProblem(() => validateMtlsOptions({ ocsp: true, ocspMaxAgeMs: 8 * 86_400_000 }))).toMatch(/^ocspMaxAgeMs: must not be greater than 604800000/);
    expect(configProblem(() => validateMtlsOptions({ ocsp: true, ocspNounce: false } as never))).toBe('ocspNounce: is not an option of MtlsModule; did you mean "ocspNonce"?');
    expect(mtlsOptionsFromEnv({ MTLS_OCSP: 'true', MTLS_OCSP_NONCE: 'false', MTLS_OCSP_MAX_AGE_MS: '120000' })).toEqual({ ocsp: true, ocspNonce: false, ocspMaxAgeMs: 120000 });
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_OCSP_NONCES: 'false' }))).toMatch(/MTLS_OCSP_NONCES: .*did you mean MTLS_OCSP_NONCE\?/);
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_OCSP_MAX_AGE_MS: '5m' }))).toBe('MTLS_OCSP_MAX_AGE_MS (ocspMaxAgeMs): expected a whole number, got "5m"');
  });

  it('takes revocationAllowedHosts as host or host:port, with enableCRLDP or ocsp, and refuses anything else naming the entry', () => {
    const hosts = ['crl.example.com', '10.0.0.5:8080', '[2001:db8::1]:80', 'ocsp.example'];
    expect(validateMtlsOptions({ enableCRLDP: true, revocationAllowedHosts: hosts }).revocationAllowedHosts).toEqual(hosts);
    expect(validateMtlsOptions({ ocsp: true, revocationAllowedHosts: [] }).revocationAllowedHosts).toEqual([]);
    expect(configProblem(() => validateMtlsOptions({ revocationAllowedHosts: ['crl.example.com'] }))).toBe(
      'revocationAllowedHosts: is set but neither enableCRLDP nor ocsp is true: nothing is fetched',
    );
    for (const bad of ['http://crl.example.com', 'crl.example.com/crls', '*.example.com', 'crl.example.com:99999', 'user@crl.example.com', '', ' crl.example.com']) {
      expect(configProblem(() => validateMtlsOptions({ enableCRLDP: true, revocationAllowedHosts: [bad] }))).toBe(
        `revocationAllowedHosts: "${bad}" is not a host or host:port (e.g. crl.example.com or 10.0.0.5:8080)`,
      );
    }
    expect(configProblem(() => validateMtlsOptions({ enableCRLDP: true, revocationAllowedHosts: 'crl.example.com' } as never))).toMatch(/^revocationAllowedHosts: must be an array/);
    expect(configProblem(() => validateMtlsOptions({ enableCRLDP: true, revocationAllowedHost: ['crl.example.com'] } as never))).toBe('revocationAllowedHost: is not an option of MtlsModule; did you mean "revocationAllowedHosts"?');
    expect(mtlsOptionsFromEnv({ MTLS_ENABLE_CRLDP: 'true', MTLS_REVOCATION_ALLOWED_HOSTS: 'crl.example.com, 10.0.0.5:8080,' })).toEqual({
      enableCRLDP: true,
      revocationAllowedHosts: ['crl.example.com', '10.0.0.5:8080'],
    });
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_REVOCATION_ALLOWED_HOST: 'crl.example.com' }))).toMatch(/did you mean MTLS_REVOCATION_ALLOWED_HOSTS\?/);
  });

  it('refuses unknown option names and wrong types, naming the option', () => {
    expect(configProblem(() => validateMtlsOptions({ needClientAuht: false } as never))).toBe('needClientAuht: is not an option of MtlsModule; did you mean "needClientAuth"?');
    expect(configProblem(() => validateMtlsOptions({ needClientAuth: 'no' } as never))).toMatch(/^needClientAuth: must be a boolean value/);
    expect(configProblem(() => validateMtlsOptions({ keyStoreType: 'JCEKS' } as never))).toMatch(/^keyStoreType: must be one of the following values: PKCS12, JKS, PEM/);
    expect(configProblem(() => validateMtlsOptions({ handshakeTimeoutMs: 5 }))).toMatch(/^handshakeTimeoutMs: /);
    expect(configProblem(() => validateMtlsOptions({ requestTimeoutMs: 0 }))).toBe('requestTimeoutMs: must not be less than 1000');
    expect(configProblem(() => validateMtlsOptions({ requestTimeoutMs: 86_400_001 }))).toBe('requestTimeoutMs: must not be greater than 86400000');
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_REQUEST_TIMEOUT_MS: '0' }))).toBe('MTLS_REQUEST_TIMEOUT_MS (requestTimeoutMs): must not be less than 1000');
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_REQUEST_TIMOUT_MS: '1000' }))).toBe('MTLS_REQUEST_TIMOUT_MS: not a setting of nest-mtls; did you mean MTLS_REQUEST_TIMEOUT_MS?');
  });
});

describe('mtlsOptionsFromEnv', () => {
  it('reads every MTLS_* variable into its option', () => {
    const o = mtlsOptionsFromEnv({
      MTLS_KEY_STORE_PATH: '/k.p12',
      MTLS_KEY_STORE_PASSWORD: 'pw',
      MTLS_KEY_STORE_TYPE: 'PKCS12',
      MTLS_CERT_ALIAS: 'server-tls',
      MTLS_CERT_PATH: '/tls.crt',
      MTLS_KEY_PATH: '/tls.key',
      MTLS_KEY_PASSPHRASE: 'pp',
      MTLS_TRUST_STORE_PATH: '/ca.pem',
      MTLS_TRUST_STORE_PASSWORD: 'tp',
      MTLS_INTERMEDIATES_PATH: '/intermediates.pem',
      MTLS_CRL_PATH: '/crl.pem',
      MTLS_NEED_CLIENT_AUTH: 'false',
      MTLS_VALIDATE_PEERS: 'true',
      MTLS_VALIDATE_CERTS: '0',
      MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2, TLSv1.3',
      MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,',
      MTLS_GROUPS: 'X25519:secp256r1',
      MTLS_ALLOW_RENEGOTIATION: 'no',
      MTLS_HANDSHAKE_TIMEOUT_MS: '5000',
      MTLS_REQUEST_HEADER_TIMEOUT_MS: '7000',
      MTLS_REQUEST_TIMEOUT_MS: '120000',
      MTLS_SECURITY_LEVEL: '4',
      MTLS_ENABLE_CRLDP: 'false',
      MTLS_CRL_CHECK: 'leaf',
      MTLS_CRL_CACHE_DIR: '/var/cache/crls',
      MTLS_OCSP: 'true',
      MTLS_OCSP_RESPONDER_URL: 'http://ocsp.example/',
      MTLS_REVOCATION_FAILURE: 'open',
      MTLS_REVOCATION_REFRESH_MS: '60000',
      MTLS_REVOCATION_TIMEOUT_MS: '2000',
    });
    expect(o).toEqual({
      keyStorePath: '/k.p12',
      keyStorePassword: 'pw',
      keyStoreType: 'PKCS12',
      certAlias: 'server-tls',
      certPath: '/tls.crt',
      keyPath: '/tls.key',
      keyPassphrase: 'pp',
      trustStorePath: '/ca.pem',
      trustStorePassword: 'tp',
      intermediatesPath: '/intermediates.pem',
      crlPath: '/crl.pem',
      needClientAuth: false,
      validatePeers: true,
      validateCerts: false,
      supportedProtocols: ['TLSv1.2', 'TLSv1.3'],
      supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
      groups: 'X25519:secp256r1',
      allowRenegotiation: false,
      handshakeTimeoutMs: 5000,
      requestHeaderTimeoutMs: 7000,
      requestTimeoutMs: 120000,
      securityLevel: 4,
      enableCRLDP: false,
      crlCheck: 'leaf',
      crlCacheDir: '/var/cache/crls',
      ocsp: true,
      ocspResponderUrl: 'http://ocsp.example/',
      revocationFailure: 'open',
      revocationRefreshMs: 60000,
      revocationTimeoutMs: 2000,
    });
  });

  it('reads MTLS_CRL_PATH as one path, or a comma list of paths', () => {
    expect(mtlsOptionsFromEnv({ MTLS_CRL_PATH: '/crl.pem' })).toEqual({ crlPath: '/crl.pem' });
    expect(mtlsOptionsFromEnv({ MTLS_CRL_PATH: '/root.crl, /global.crl,' })).toEqual({ crlPath: ['/root.crl', '/global.crl'] });
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_CRL_CHECK: 'everything' }))).toMatch(/^MTLS_CRL_CHECK \(crlCheck\): must be one of the following values: chain, leaf/);
  });

  it('reads through a ConfigService-like getter and skips unset or empty variables', () => {
    const values: Record<string, string> = { MTLS_CRL_PATH: '/c.pem', MTLS_CERT_ALIAS: '' };
    expect(mtlsOptionsFromEnv({ get: (n: string) => values[n] })).toEqual({ crlPath: '/c.pem' });
  });

  it('reads MTLS_SECURITY_LEVEL, and names the variable and the option when it is out of range or not a number', () => {
    expect(mtlsOptionsFromEnv({ MTLS_SECURITY_LEVEL: '3' })).toEqual({ securityLevel: 3 });
    for (const bad of ['1', '0', '6']) {
      expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_SECURITY_LEVEL: bad }))).toBe(
        `MTLS_SECURITY_LEVEL (securityLevel): must be a whole number from 2 to 5 (an OpenSSL security level), got ${bad}`,
      );
    }
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_SECURITY_LEVEL: 'abc' }))).toBe('MTLS_SECURITY_LEVEL (securityLevel): expected a whole number, got "abc"');
  });

  it('names the variable when a value has the wrong kind', () => {
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_NEED_CLIENT_AUTH: 'maybe' }))).toBe('MTLS_NEED_CLIENT_AUTH (needClientAuth): expected true or false, got "maybe"');
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_HANDSHAKE_TIMEOUT_MS: '10s' }))).toBe('MTLS_HANDSHAKE_TIMEOUT_MS (handshakeTimeoutMs): expected a whole number, got "10s"');
  });
});

describe('cipher name table', () => {
  it('matches the openssl CLI of this machine (differential)', () => {
    let out: string;
    try {
      out = execFileSync('openssl', ['ciphers', '-stdname', 'ALL:!aNULL:!eNULL:!PSK:!SRP'], { encoding: 'utf8' });
    } catch {
      console.warn('openssl CLI not found: skipping the differential cipher table check');
      return;
    }
    const fromCli = Object.fromEntries(out.trim().split('\n').map((l) => l.trim().split(/\s+/)).map((f) => [f[0], f[2]]));
    expect(IANA_TO_OPENSSL_CIPHER).toEqual(fromCli);
  });
});
