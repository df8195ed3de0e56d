import crypto, { X509Certificate } from 'node:crypto';
import * as forge from 'node-forge';
import { chmodSync, mkdirSync } from 'node:fs';
import { loadCrls } from 'nest-mtls/internal';
import { loadIntermediates } from 'nest-mtls/internal';
import { loadKeyMaterial } from 'nest-mtls/internal';
import { readSettingFile } from 'nest-mtls/internal';
import { sniffStoreType } from 'nest-mtls/internal';
import { loadTlsMaterial } from 'nest-mtls/internal';
import { loadTrustMaterial } from 'nest-mtls/internal';
import type { LoadedKeyMaterial as KeyMaterial } from 'nest-mtls/internal';
import { buildToolMadeStores, KEY_PW, PW, type ToolMadeStores } from '../support/test-pki';
import { configError as configErrorOf } from '../support/config-problem';

let pki: ToolMadeStores;
let root: X509Certificate;
let int: X509Certificate;

beforeAll(() => {
  pki = buildToolMadeStores({ jks: false });
  root = new X509Certificate(pki.read('root.pem'));
  int = new X509Certificate(pki.read('int.pem'));
}, 120_000);
afterAll(() => pki?.cleanup());

/** The MtlsConfigError thrown by fn, whose message must name neither password. */
const configError = (fn: () => unknown) => configErrorOf(fn, [PW, KEY_PW]);

function leafCn(m: KeyMaterial): string {
  return m.chain[0].subject;
}

function expectChain(m: KeyMaterial, leafFile: string, withRoot: boolean) {
  const leaf = new X509Certificate(pki.read(leafFile));
  expect(m.chain.map((c) => c.fingerprint256)).toEqual(
    [leaf, int, ...(withRoot ? [root] : [])].map((c) => c.fingerprint256),
  );
  expect(m.chain[0].checkPrivateKey(m.key)).toBe(true);
  expect(m.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
}

describe('setting files', () => {
  test('missing, directory, empty, unreadable', () => {
    expect(configError(() => readSettingFile('keyStorePath', pki.path('nope.p12'))).message).toBe(
      `keyStorePath: file not found: ${pki.path('nope.p12')}`,
    );
    mkdirSync(pki.path('adir'));
    expect(configError(() => readSettingFile('trustStorePath', pki.path('adir'))).message).toBe(
      `trustStorePath: is a directory, expected a file: ${pki.path('adir')}`,
    );
    pki.write('empty.pem', '');
    expect(configError(() => readSettingFile('certPath', pki.path('empty.pem'))).message).toBe(
      `certPath: file is empty: ${pki.path('empty.pem')}`,
    );
    expect(configError(() => readSettingFile('keyPath', pki.path('empty.pem/x'))).message).toBe(
      `keyPath: cannot read ${pki.path('empty.pem/x')} (ENOTDIR)`,
    );
    pki.write('secret.pem', 'x');
    chmodSync(pki.path('secret.pem'), 0o000);
    if (process.getuid?.() === 0) {
      console.log('running as root: EACCES cannot be provoked, skipping the unreadable-file case');
    } else {
      expect(configError(() => readSettingFile('keyPath', pki.path('secret.pem'))).message).toBe(
        `keyPath: cannot read ${pki.path('secret.pem')} (EACCES)`,
      );
    }
  });
});

describe('store type sniffing (content, not extension)', () => {
  test('PEM, PKCS12, garbage, DER certificate', () => {
    const sniff = (f: string) => sniffStoreType(readSettingFile('keyStorePath', pki.path(f)), 'keyStorePath', pki.path(f));
    expect(sniff('ec-bundle.pem')).toBe('PEM');
    pki.write('with-text.pem', `Bag Attributes\n    friendlyName: café\n${pki.read('root.pem')}`);
    expect(sniff('with-text.pem')).toBe('PEM');
    expect(sniff('rsa.p12')).toBe('PKCS12');
    pki.write('garbage.bin', 'hello, this is not a key store\n');
    expect(configError(() => sniff('garbage.bin')).message).toBe(
      `keyStorePath: not a PEM, PKCS#12 or JKS file: ${pki.path('garbage.bin')}`,
    );
    pki.write('root.der', root.raw);
    expect(configError(() => sniff('root.der')).message).toMatch(
      /^keyStorePath: not a PEM, PKCS#12 or JKS file: .*root\.der \(DER data that is not PKCS#12/,
    );
  });

  test('explicit keyStoreType contradicting the content', () => {
    const err = configError(() => loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW, keyStoreType: 'PEM' }));
    expect(err.setting).toBe('keyStoreType');
    expect(err.message).toBe(`keyStoreType: is PEM but ${pki.path('ec.p12')} holds PKCS12 content; set PKCS12 or leave keyStoreType unset`);
    // JKS and PKCS12 read each other, as in Java 9+: the content decides.
    expect(loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW, keyStoreType: 'JKS' }).chain).toHaveLength(3);
    expect(
      configError(() => loadTrustMaterial({ trustStorePath: pki.path('cas.pem'), trustStoreType: 'PKCS12' })).message,
    ).toBe(`trustStoreType: is PKCS12 but ${pki.path('cas.pem')} holds PEM content; set PEM or leave trustStoreType unset`);
    // A matching explicit type is fine.
    expect(loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW, keyStoreType: 'PKCS12' }).chain).toHaveLength(3);
  });
});

describe('PEM', () => {
  test('certPath + keyPath (PKCS#8, PKCS#1, SEC1): key matches the leaf, chain leaf -> intermediate', () => {
    expectChain(loadKeyMaterial({ certPath: pki.path('rsa-chain.pem'), keyPath: pki.path('rsa-leaf.key') }), 'rsa-leaf.pem', false);
    expectChain(loadKeyMaterial({ certPath: pki.path('rsa-chain.pem'), keyPath: pki.path('rsa-leaf.pkcs1.key') }), 'rsa-leaf.pem', false);
    const ec = loadKeyMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('ec-leaf.sec1.key') });
    expectChain(ec, 'ec-leaf.pem', false);
    expect(ec.key.asymmetricKeyType).toBe('ec');
    expect(ec.source).toBe(`${pki.path('ec-chain.pem')} + ${pki.path('ec-leaf.sec1.key')}`);
  });

  test('chain in the wrong order is put leaf first, root once', () => {
    expectChain(loadKeyMaterial({ certPath: pki.path('ec-chain-reversed.pem'), keyPath: pki.path('ec-leaf.key') }), 'ec-leaf.pem', true);
  });

  test('PEM key store with an encrypted key: keyPassphrase, else keyStorePassword', () => {
    pki.write('enc-bundle.pem', pki.read('ec-leaf.enc8.key') + pki.read('ec-chain.pem'));
    const f = pki.path('enc-bundle.pem');
    expect(loadKeyMaterial({ keyStorePath: f, keyPassphrase: KEY_PW }).chain).toHaveLength(2);
    expect(loadKeyMaterial({ keyStorePath: f, keyStorePassword: KEY_PW }).chain).toHaveLength(2);
    expect(configError(() => loadKeyMaterial({ keyStorePath: f })).message).toBe(
      `keyPassphrase: ${f} holds an encrypted private key; set keyPassphrase`,
    );
    expect(configError(() => loadKeyMaterial({ keyStorePath: f, keyStorePassword: 'nope' })).message).toBe(
      `keyStorePassword: wrong passphrase for ${f}`,
    );
  });

  test('PEM key store (key + chain in one file)', () => {
    const m = loadKeyMaterial({ keyStorePath: pki.path('ec-bundle.pem') });
    expectChain(m, 'ec-leaf.pem', true);
    expect(m.source).toBe(pki.path('ec-bundle.pem'));
  });

  test('encrypted PKCS#8 and legacy Proc-Type keys', () => {
    for (const [cert, key] of [
      ['ec-chain.pem', 'ec-leaf.enc8.key'],
      ['rsa-chain.pem', 'rsa-leaf.legacy-enc.key'],
      ['ec-chain.pem', 'ec-leaf.legacy-enc.key'],
    ]) {
      expect(pki.read(key)).toMatch(/ENCRYPTED/);
      const m = loadKeyMaterial({ certPath: pki.path(cert), keyPath: pki.path(key), keyPassphrase: KEY_PW });
      expect(m.chain[0].checkPrivateKey(m.key)).toBe(true);
      expect(m.keyPem).not.toMatch(/ENCRYPTED/);
      expect(configError(() => loadKeyMaterial({ certPath: pki.path(cert), keyPath: pki.path(key) })).message).toBe(
        `keyPassphrase: ${pki.path(key)} holds an encrypted private key; set keyPassphrase`,
      );
      expect(
        configError(() => loadKeyMaterial({ certPath: pki.path(cert), keyPath: pki.path(key), keyPassphrase: 'wrong' })).message,
      ).toBe(`keyPassphrase: wrong passphrase for ${pki.path(key)}`);
    }
  });

  test('errors: no certificate, no key, mismatch, garbage, wrong file type', () => {
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-leaf.key'), keyPath: pki.path('ec-leaf.key') })).message).toBe(
      `certPath: no certificate found in ${pki.path('ec-leaf.key')}`,
    );
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('ec-chain.pem') })).message).toBe(
      `keyPath: no private key found in ${pki.path('ec-chain.pem')}`,
    );
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('other.key') })).message).toBe(
      `keyPath: private key does not match the certificate in ${pki.path('ec-chain.pem')}`,
    );
    pki.write('garbage.key', 'not a key\n');
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('garbage.key') })).message).toBe(
      `keyPath: not a PEM, PKCS#12 or JKS file: ${pki.path('garbage.key')}`,
    );
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec.p12'), keyPath: pki.path('ec-leaf.key') })).message).toBe(
      `certPath: ${pki.path('ec.p12')} is a PKCS12 file, certPath takes PEM (use keyStorePath for a key store)`,
    );
    pki.write('two-keys.pem', pki.read('ec-leaf.key') + pki.read('other.key'));
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('two-keys.pem') })).message).toBe(
      `keyPath: ${pki.path('two-keys.pem')} holds 2 private keys; expected one`,
    );
    pki.write('broken-cert.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('broken-cert.pem'), keyPath: pki.path('ec-leaf.key') })).message).toMatch(
      new RegExp(`^certPath: cannot parse certificate 1 of 1 in ${pki.path('broken-cert.pem')} \\(`),
    );
    expect(configError(() => loadKeyMaterial({ keyStorePath: pki.path('cas.pem') })).message).toBe(
      `keyStorePath: no private key found in ${pki.path('cas.pem')} (it holds only certificates: a trust store?)`,
    );
  });

  test('option combinations', () => {
    expect(
      configError(() => loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), certPath: pki.path('ec-chain.pem'), keyPath: pki.path('ec-leaf.key') })).message,
    ).toBe('keyStorePath: set either keyStorePath or certPath/keyPath, not both');
    expect(configError(() => loadKeyMaterial({})).message).toBe(
      'keyStorePath: no key material: set keyStorePath, or certPath and keyPath',
    );
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-chain.pem') })).message).toBe('keyPath: required with certPath');
    expect(configError(() => loadKeyMaterial({ keyPath: pki.path('ec-leaf.key') })).message).toBe('certPath: required with keyPath');
  });
});

describe('PKCS#12 (openssl pkcs12 -export)', () => {
  test('default AES p12, RSA and EC: alias, key matches leaf, chain leaf -> intermediate -> root', () => {
    const rsa = loadKeyMaterial({ keyStorePath: pki.path('rsa.p12'), keyStorePassword: PW });
    expectChain(rsa, 'rsa-leaf.pem', true);
    expect(rsa.source).toBe(`${pki.path('rsa.p12')} (alias "rsa-server")`);
    const ec = loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW, certAlias: 'ec-server' });
    expectChain(ec, 'ec-leaf.pem', true);
    expect(ec.key.asymmetricKeyType).toBe('ec');
    expect(leafCn(ec)).toMatch(/CN=ec-server/);
  });

  test('-legacy (3DES/RC2) p12, RSA and EC', () => {
    if (!pki.legacy) {
      console.log('openssl legacy provider unavailable: skipping -legacy PKCS#12');
      return;
    }
    expectChain(loadKeyMaterial({ keyStorePath: pki.path('rsa-legacy.p12'), keyStorePassword: PW }), 'rsa-leaf.pem', true);
    expectChain(loadKeyMaterial({ keyStorePath: pki.path('ec-legacy.p12'), keyStorePassword: PW }), 'ec-leaf.pem', true);
  });

  test('without -name, and with an empty password', () => {
    const m = loadKeyMaterial({ keyStorePath: pki.path('ec-noname.p12'), keyStorePassword: PW });
    expectChain(m, 'ec-leaf.pem', true);
    expect(m.source).toBe(pki.path('ec-noname.p12'));
    expectChain(loadKeyMaterial({ keyStorePath: pki.path('ec-emptypw.p12') }), 'ec-leaf.pem', true);
    expectChain(loadKeyMaterial({ keyStorePath: pki.path('ec-emptypw.p12'), keyStorePassword: '' }), 'ec-leaf.pem', true);
  });

  test('wrong / missing password, unknown alias, key not matching its certificate', () => {
    expect(configError(() => loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: 'nope' })).message).toBe(
      `keyStorePassword: wrong password for ${pki.path('ec.p12')}`,
    );
    expect(configError(() => loadKeyMaterial({ keyStorePath: pki.path('ec.p12') })).message).toBe(
      `keyStorePassword: ${pki.path('ec.p12')} is password-protected; set keyStorePassword`,
    );
    expect(
      configError(() => loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW, certAlias: 'x' })).message,
    ).toBe(`certAlias: no key entry "x" in ${pki.path('ec.p12')} (key entries: ec-server)`);
    expect(configError(() => loadKeyMaterial({ keyStorePath: pki.path('mismatch.p12'), keyStorePassword: PW })).message).toBe(
      `keyStorePath: private key does not match the certificate in ${pki.path('mismatch.p12')}`,
    );
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('trust.p12') })).message).toBe(
      `trustStorePassword: ${pki.path('trust.p12')} is password-protected; set trustStorePassword`,
    );
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('trust.p12'), trustStorePassword: 'nope' })).message).toBe(
      `trustStorePassword: wrong password for ${pki.path('trust.p12')}`,
    );
  });

  test("PBES2's PBKDF2 runs in Node's crypto, not in forge's JavaScript, and forge's own is back afterwards", () => {
    const pkcs5 = forge.pkcs5 as unknown as { pbkdf2: unknown };
    const before = pkcs5.pbkdf2;
    const native = jest.spyOn(crypto, 'pbkdf2Sync');
    try {
      expectChain(loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW }), 'ec-leaf.pem', true);
      // The key bag and the certificate safe: PBKDF2-HMAC-SHA256, as OpenSSL 3 writes them.
      expect(native.mock.calls.map((call) => call[4])).toEqual(['sha256', 'sha256']);
      configError(() => loadKeyMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: 'nope' }));
    } finally {
      native.mockRestore();
    }
    expect(pkcs5.pbkdf2).toBe(before);
  });

  test('a truncated p12 says it cannot be read', () => {
    const der = readSettingFile('x', pki.path('ec.p12'));
    pki.write('truncated.p12', der.subarray(0, der.length - 40));
    expect(configError(() => loadKeyMaterial({ keyStorePath: pki.path('truncated.p12'), keyStorePassword: PW })).message).toMatch(
      new RegExp(`^keyStorePath: not a valid PKCS#12 file: ${pki.path('truncated.p12')} \\(`),
    );
  });
});

describe('trust material', () => {
  test('required', () => {
    expect(configError(() => loadTrustMaterial({})).message).toBe(
      'trustStorePath: required: the CAs to trust; public roots are never used',
    );
  });

  test('PEM bundle: exactly the file\'s CAs, no public roots', () => {
    const t = loadTrustMaterial({ trustStorePath: pki.path('cas.pem') });
    expect(t.cas.map((c) => c.fingerprint256)).toEqual([int.fingerprint256, root.fingerprint256]);
    expect(t.nonCa).toEqual([]);
    expect(t.source).toBe(pki.path('cas.pem'));
  });

  test('PKCS#12 cert bags', () => {
    const t = loadTrustMaterial({ trustStorePath: pki.path('trust.p12'), trustStorePassword: PW });
    expect(t.cas.map((c) => c.fingerprint256).sort()).toEqual([int.fingerprint256, root.fingerprint256].sort());
  });

  test('a non-CA certificate is kept and noted', () => {
    const t = loadTrustMaterial({ trustStorePath: pki.path('trust-mixed.pem') });
    expect(t.cas).toHaveLength(2);
    expect(t.nonCa!.map((c) => c.subject)).toEqual([expect.stringContaining('CN=home-page-service')]);
  });

  test('no certificate', () => {
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('ec-leaf.key') })).message).toBe(
      `trustStorePath: no CA certificate found in ${pki.path('ec-leaf.key')}`,
    );
  });
});

describe('CRLs', () => {
  test('a PEM with 2 CRLs splits into 2, one PEM block each', () => {
    const crls = loadCrls(pki.path('crls.pem'));
    expect(crls).toHaveLength(2);
    expect(crls[0].crl.issuer).toContain('CN=Test Root CA');
    expect(crls[1].crl.issuer).toContain('CN=Test Intermediate CA');
    expect(crls[1].crl.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    for (const c of crls) expect(c.pem.match(/-----BEGIN X509 CRL-----/g)).toHaveLength(1);
    expect(crls[1].source).toBe(`${pki.path('crls.pem')} (CRL 2 of 2)`);
  });

  test('a single PEM CRL and a DER CRL', () => {
    const one = loadCrls(pki.path('int.crl'));
    expect(one).toHaveLength(1);
    expect(one[0].source).toBe(pki.path('int.crl'));
    const der = loadCrls(pki.path('int.crl.der'));
    expect(der[0].pem).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(der[0].crl.issuer).toContain('CN=Test Intermediate CA');
  });

  test('the "CRL" PEM label (@peculiar/x509) is re-labelled "X509 CRL" for OpenSSL', () => {
    pki.write('peculiar.crl', pki.read('int.crl').replace(/X509 CRL/g, 'CRL'));
    const [c] = loadCrls(pki.path('peculiar.crl'));
    expect(c.pem).toBe(pki.read('int.crl'));
  });

  test('no CRL, unparsable CRL, missing file', () => {
    expect(configError(() => loadCrls(pki.path('cas.pem'))).message).toBe(`crlPath: no CRL found in ${pki.path('cas.pem')}`);
    pki.write('bad.crl', '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
    expect(configError(() => loadCrls(pki.path('bad.crl'))).message).toMatch(
      new RegExp(`^crlPath: cannot parse the CRL in ${pki.path('bad.crl')} \\(`),
    );
    expect(configError(() => loadCrls(pki.path('none.crl'))).message).toBe(`crlPath: file not found: ${pki.path('none.crl')}`);
  });
});

describe('loadTlsMaterial', () => {
  test('identity + trust + crls', () => {
    const m = loadTlsMaterial({
      certPath: pki.path('ec-chain.pem'),
      keyPath: pki.path('ec-leaf.key'),
      trustStorePath: pki.path('cas.pem'),
      crlPath: pki.path('crls.pem'),
    });
    expect(m.identity.chain).toHaveLength(2);
    expect(m.trust.cas).toHaveLength(2);
    expect(m.crls).toHaveLength(2);
    expect(loadTlsMaterial({ keyStorePath: pki.path('ec-bundle.pem'), trustStorePath: pki.path('cas.pem') }).crls).toBeUndefined();
  });
});

/** A file caught while it is written: its text cut `from end` characters before the end, or at a given point. */
describe('half-written PEM files are refused, never read as a smaller bundle', () => {
  /** The text cut in the middle of its last PEM block (half way between its BEGIN and END lines). */
  const cutInLastBlock = (text: string) => {
    const begin = text.lastIndexOf('-----BEGIN ');
    const end = text.indexOf('-----END ', begin);
    return text.slice(0, begin + Math.floor((end - begin) / 2));
  };

  test('a CRL file cut inside its second CRL: no list of one CRL', () => {
    pki.write('half.crls.pem', cutInLastBlock(pki.read('crls.pem')));
    expect(configError(() => loadCrls(pki.path('half.crls.pem'))).message).toBe(
      `crlPath: ${pki.path('half.crls.pem')} ends inside PEM block 2 of 2 (-----BEGIN X509 CRL----- without its -----END X509 CRL-----; a file still being written?)`,
    );
  });

  test('a trust bundle cut inside its second CA: no trust store of one CA', () => {
    pki.write('half.cas.pem', cutInLastBlock(pki.read('cas.pem')));
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('half.cas.pem') })).message).toBe(
      `trustStorePath: ${pki.path('half.cas.pem')} ends inside PEM block 2 of 2 (-----BEGIN CERTIFICATE----- without its -----END CERTIFICATE-----; a file still being written?)`,
    );
  });

  test('a certificate chain cut inside its intermediate, a PEM key store cut inside its chain, a key cut inside its block', () => {
    pki.write('half.chain.pem', cutInLastBlock(pki.read('ec-chain.pem')));
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('half.chain.pem'), keyPath: pki.path('ec-leaf.key') })).message).toMatch(
      new RegExp(`^certPath: ${pki.path('half.chain.pem')} ends inside PEM block 2 of 2 \\(-----BEGIN CERTIFICATE-----`),
    );
    pki.write('half.bundle.pem', cutInLastBlock(pki.read('ec-bundle.pem')));
    expect(configError(() => loadKeyMaterial({ keyStorePath: pki.path('half.bundle.pem') })).message).toMatch(new RegExp(`^keyStorePath: ${pki.path('half.bundle.pem')} ends inside PEM block`));
    pki.write('half.key', cutInLastBlock(pki.read('ec-leaf.key')));
    expect(configError(() => loadKeyMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('half.key') })).message).toBe(
      `keyPath: ${pki.path('half.key')} ends inside its PEM block (-----BEGIN PRIVATE KEY----- without its -----END PRIVATE KEY-----; a file still being written?)`,
    );
  });

  test('cut inside a BEGIN or END line, or with a block whose END never comes before the next block', () => {
    const cas = pki.read('cas.pem');
    const second = cas.lastIndexOf('-----BEGIN ');
    for (const cut of [second + 3, second + 14]) {
      pki.write('cut.pem', cas.slice(0, cut));
      expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('cut.pem') })).message).toMatch(/^trustStorePath: .* is cut short/);
    }
    const lastEnd = cas.lastIndexOf('-----END ');
    pki.write('cut.pem', cas.slice(0, lastEnd + 12));
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('cut.pem') })).message).toMatch(/ends inside PEM block 2 of 2/);
    const firstEnd = cas.indexOf('-----END ');
    pki.write('cut.pem', cas.slice(0, firstEnd) + cas.slice(cas.indexOf('\n', firstEnd) + 1));
    expect(configError(() => loadTrustMaterial({ trustStorePath: pki.path('cut.pem') })).message).toMatch(/has no END line for PEM block 1 of 2/);
  });

  test('control: whole files with text between and after their blocks still read', () => {
    pki.write('annotated.pem', `subject=CN=a\n${pki.read('cas.pem')}\n# the end\n`);
    expect(loadTrustMaterial({ trustStorePath: pki.path('annotated.pem') }).cas).toHaveLength(2);
    expect(loadCrls(pki.path('crls.pem'))).toHaveLength(2);
  });
});

describe('intermediates (intermediatesPath)', () => {
  test('the CA certificates of a PEM file, each once', () => {
    pki.write('intermediates.pem', pki.read('int.pem') + pki.read('int.pem'));
    const m = loadIntermediates(pki.path('intermediates.pem'));
    expect(m.certificates.map((c) => c.fingerprint256)).toEqual([int.fingerprint256]);
    expect(m.source).toBe(pki.path('intermediates.pem'));
    expect(loadTlsMaterial({ certPath: pki.path('ec-chain.pem'), keyPath: pki.path('ec-leaf.key'), trustStorePath: pki.path('root.pem'), intermediatesPath: pki.path('intermediates.pem') }).intermediates).toEqual(m);
  });

  test('refuses a file that is not what the setting means: a leaf, no certificate, another format, a half-written file', () => {
    expect(configError(() => loadIntermediates(pki.path('rsa-leaf.pem'))).message).toMatch(new RegExp(`^intermediatesPath: CN=.* in ${pki.path('rsa-leaf.pem')} is not a CA certificate`));
    expect(configError(() => loadIntermediates(pki.path('ec-leaf.key'))).message).toBe(`intermediatesPath: no certificate found in ${pki.path('ec-leaf.key')}`);
    expect(configError(() => loadIntermediates(pki.path('trust.p12'))).message).toMatch(/^intermediatesPath: .* is a PKCS12 file, intermediatesPath takes PEM/);
    pki.write('half.intermediates.pem', pki.read('int.pem').slice(0, 200));
    expect(configError(() => loadIntermediates(pki.path('half.intermediates.pem'))).message).toMatch(/^intermediatesPath: .* ends inside its PEM block/);
  });
});
