/** JKS and keytool-written stores. Need keytool (see requireTool). */
import { X509Certificate } from 'node:crypto';
import { loadKeyMaterial } from 'nest-mtls/internal';
import { readSettingFile } from 'nest-mtls/internal';
import { sniffStoreType } from 'nest-mtls/internal';
import type { LoadedKeyMaterial as KeyMaterial } from 'nest-mtls/internal';
import { loadTrustMaterial } from 'nest-mtls/internal';
import { requireTool } from '../support/require-tool';
import { buildToolMadeStores, PW, type ToolMadeStores } from '../support/test-pki';
import { configError as configErrorOf } from '../support/config-problem';

const maybe = requireTool('keytool', 'the JKS and keytool store tests') ? describe : describe.skip;

let pki: ToolMadeStores;
let root: X509Certificate;
let int: X509Certificate;

/** The MtlsConfigError thrown by fn, whose message must not contain the password. */
const configError = (fn: () => unknown) => configErrorOf(fn, [PW]);

function expectChain(m: KeyMaterial, leafFile: string) {
  const leaf = new X509Certificate(pki.read(leafFile));
  expect(m.chain.map((c) => c.fingerprint256)).toEqual([leaf, int, root].map((c) => c.fingerprint256));
  expect(m.chain[0].checkPrivateKey(m.key)).toBe(true);
}

maybe('JKS (keytool -importkeystore -deststoretype JKS)', () => {
  beforeAll(() => {
    pki = buildToolMadeStores();
    root = new X509Certificate(pki.read('root.pem'));
    int = new X509Certificate(pki.read('int.pem'));
  }, 180_000);
  afterAll(() => pki?.cleanup());

  test('sniffed as JKS; JCEKS refused with the conversion command', () => {
    const p = pki.path('rsa.jks');
    expect(readSettingFile('keyStorePath', p).readUInt32BE(0)).toBe(0xfeedfeed);
    expect(sniffStoreType(readSettingFile('keyStorePath', p), 'keyStorePath', p)).toBe('JKS');
    const jceks = pki.path('ec.jceks');
    expect(configError(() => loadKeyMaterial({ keyStorePath: jceks, keyStorePassword: PW })).message).toBe(
      `keyStorePath: ${jceks} is a JCEKS store: JCEKS is not supported, convert with keytool -importkeystore -srckeystore ${jceks} -srcstoretype JCEKS -destkeystore store.p12 -deststoretype PKCS12`,
    );
  });

  test('RSA key entry: key matches leaf, chain leaf -> intermediate -> root', () => {
    const m = loadKeyMaterial({ keyStorePath: pki.path('rsa.jks'), keyStorePassword: PW, keyStoreType: 'JKS' });
    expectChain(m, 'rsa-leaf.pem');
    expect(m.key.asymmetricKeyType).toBe('rsa');
    expect(m.source).toBe(`${pki.path('rsa.jks')} (alias "rsa-server")`);
  });

  test('EC P-256 key entry (jks-js recovers the PKCS#8 bytes; node parses them)', () => {
    const m = loadKeyMaterial({ keyStorePath: pki.path('ec.jks'), keyStorePassword: PW });
    expectChain(m, 'ec-leaf.pem');
    expect(m.key.asymmetricKeyType).toBe('ec');
    expect(m.key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test('two key entries: certAlias required, selects, unknown alias lists them', () => {
    const p = pki.path('two.jks');
    expect(configError(() => loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW })).message).toBe(
      `certAlias: ${p} holds 2 key entries (ec-server, rsa-server); set certAlias`,
    );
    expectChain(loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW, certAlias: 'ec-server' }), 'ec-leaf.pem');
    expectChain(loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW, certAlias: 'RSA-Server' }), 'rsa-leaf.pem');
    expect(configError(() => loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW, certAlias: 'x' })).message).toBe(
      `certAlias: no key entry "x" in ${p} (key entries: ec-server, rsa-server)`,
    );
  });

  test('wrong and missing password', () => {
    const p = pki.path('ec.jks');
    expect(configError(() => loadKeyMaterial({ keyStorePath: p, keyStorePassword: 'nope' })).message).toBe(
      `keyStorePassword: wrong password for ${p}`,
    );
    expect(configError(() => loadKeyMaterial({ keyStorePath: p })).message).toBe(
      `keyStorePassword: ${p} is password-protected; set keyStorePassword`,
    );
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('trust.jks'), trustStorePassword: 'nope' })).message).toBe(
      `trustStorePassword: wrong password for ${pki.path('trust.jks')}`,
    );
  });

  test('a key password different from the store password says so', () => {
    const p = pki.path('keypass.jks');
    expect(configError(() => loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW })).message).toBe(
      `keyStorePassword: cannot decrypt key entry "ec-server" in ${p} with the store password (a key password different from the store password is not supported)`,
    );
  });

  test('trust-only JKS (keytool -importcert): exactly its CAs', () => {
    const t = loadTrustMaterial({ trustStorePath: pki.path('trust.jks'), trustStorePassword: PW });
    expect(t.cas.map((c) => c.fingerprint256).sort()).toEqual([root.fingerprint256, int.fingerprint256].sort());
    expect(t.nonCa).toEqual([]);
    // Like Java, a trust store is readable without its password (no integrity check then).
    expect(loadTrustMaterial({ trustStorePath: pki.path('trust.jks') }).cas).toHaveLength(2);
  });

  test('JKS as trust store: certificates of key entries count too, each once', () => {
    const t = loadTrustMaterial({ trustStorePath: pki.path('two.jks'), trustStorePassword: PW });
    const leaves = ['rsa-leaf.pem', 'ec-leaf.pem'].map((f) => new X509Certificate(pki.read(f)).fingerprint256);
    expect(t.cas.map((c) => c.fingerprint256).sort()).toEqual([...leaves, root.fingerprint256, int.fingerprint256].sort());
    expect(t.nonCa).toHaveLength(2);
  });

  test("keytool's default store in keystore.jks is PKCS12 content and is read as such", () => {
    const p = pki.path('keystore.jks');
    expect(sniffStoreType(readSettingFile('keyStorePath', p), 'keyStorePath', p)).toBe('PKCS12');
    const m = loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW });
    expectChain(m, 'ec-leaf.pem');
    expect(m.source).toBe(`${p} (alias "ec-server")`);
    // A ported Dropwizard config that says JKS still works, as it does in Java 9+.
    expectChain(loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW, keyStoreType: 'JKS' }), 'ec-leaf.pem');
  });

  test('multi-entry PKCS#12 written by keytool', () => {
    const p = pki.path('two.p12');
    expect(configError(() => loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW })).message).toBe(
      `certAlias: ${p} holds 2 key entries (ec-server, rsa-server); set certAlias`,
    );
    expectChain(loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW, certAlias: 'rsa-server' }), 'rsa-leaf.pem');
    expectChain(loadKeyMaterial({ keyStorePath: p, keyStorePassword: PW, certAlias: 'ec-server' }), 'ec-leaf.pem');
  });

  test('keytool PKCS#12 trust store (trusted certificate entry)', () => {
    const t = loadTrustMaterial({ trustStorePath: pki.path('trust-keytool.p12'), trustStorePassword: PW });
    expect(t.cas.map((c) => c.fingerprint256)).toEqual([root.fingerprint256]);
  });
});
