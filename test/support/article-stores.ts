/**
 * Key and trust stores made the way Okta's "TLS Client Authentication for
 * Internal Services" makes them: a root CA and a global CA under it, RSA 2048
 * service keys (`openssl genrsa`), CSRs with the country, state, city,
 * organisation and unit the `openssl req` prompts ask for, signed by the
 * global CA with `openssl ca -config my-ca-conf.cnf`, the chain without the
 * root (`cat server.crt global.crt > chain.crt`), `openssl pkcs12 -export
 * -name server-tls`, then keytool: `-importkeystore` into a JKS key store and
 * `-import -alias root` into a JKS trust store. The article's era wrote JKS by
 * default; Java 9+ keytool writes PKCS#12 unless told `-deststoretype JKS`, so
 * it is told.
 *
 * The CA configuration puts a CRL distribution point in every certificate
 * below the root (the article's connector sets `enableCRLDP: true`, under which
 * Java and nest-mtls alike refuse a caller whose revocation status cannot be
 * learned); `crls()` gives the DER CRLs to serve there.
 */
import { readFileSync } from 'node:fs';
import { runToolOk } from './openssl-cli';
import { TempDir } from './temp-dir';
import { keytool } from './tool-made-stores';

/** The article's store password (`keyStorePassword: "notsecret"`). */
export const ARTICLE_PASSWORD = 'notsecret';

/** The subject the `openssl req` prompts give a service: the article's example DN with the service's CN. */
export const articleSubject = (cn: string) => `/C=US/ST=California/L=San Francisco/O=Example/OU=Engineering/CN=${cn}`;

/** One service's files, made the article's way. */
export interface ArticleService {
  key: string;
  cert: string;
  /** Leaf + global CA, no root. */
  chain: string;
  /** `openssl pkcs12 -export -name ALIAS`. */
  p12: string;
  /** `keytool -importkeystore ... -deststoretype JKS`. */
  jks: string;
  /** The key entry's alias: `server-tls` for user-service (the article's certAlias), `service-tls` for the clients (its Jersey code). */
  alias: string;
  /** The subject DN as Java's `getSubjectDN().getName()` prints it. */
  javaSubject: string;
}

export class ArticleStores extends TempDir {
  /** `keytool -import -alias root -file root.crt -keystore truststore.jks` (JKS). */
  truststoreJks = '';
  /** The same root as a PKCS#12 trust store (keytool -storetype PKCS12). */
  truststoreP12 = '';
  /** The root CA certificate (PEM): curl's --cacert. */
  rootCrt = '';
  services: Record<string, ArticleService> = {};

  /** The CRLs of the root and the global CA (DER), to be served at `${crlBaseUrl}/root.crl` and `/global.crl`. */
  crls(): Record<'root.crl' | 'global.crl', Buffer> {
    return { 'root.crl': readFileSync(this.path('root.crl')), 'global.crl': readFileSync(this.path('global.crl')) };
  }
}

const caConfig = (dir: string, name: string, crlUrl: string, extensions: string) => `[ca]
default_ca = CA_default
[CA_default]
dir = ${dir}
database = ${dir}/${name}-index.txt
serial = ${dir}/${name}-serial
crlnumber = ${dir}/${name}-crlnumber
certificate = ${dir}/${name}.crt
private_key = ${dir}/${name}.key
new_certs_dir = ${dir}
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_anything
copy_extensions = none
unique_subject = no
x509_extensions = ${extensions}
[policy_anything]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[global_ca]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:${crlUrl}/root.crl
[server]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:${crlUrl}/global.crl
[client]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth,serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:${crlUrl}/global.crl
`;

/**
 * Builds the stores: user-service (the server, alias `server-tls`, with
 * `localhost` and `127.0.0.1` SANs so clients can check its name), and each
 * of `clients` (alias `service-tls`). Needs openssl and keytool; takes a few
 * seconds (each keytool run starts a JVM).
 */
export function buildArticleStores(crlBaseUrl: string, clients: string[] = ['home-page-service', 'event-service']): ArticleStores {
  const stores = new ArticleStores('nest-mtls-article-');
  const dir = stores.dir;
  const o = (...args: string[]) => runToolOk('openssl', args, { cwd: dir });
  const kt = (...args: string[]) => keytool(args, dir);
  const pass = ['-passout', `pass:${ARTICLE_PASSWORD}`];

  // The root CA (its key would stay offline) and the global CA under it.
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.crt', '-days', '30', '-subj', '/C=US/O=Example/CN=Example Root CA',
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const ca of ['root', 'global']) {
    stores.write(`${ca}-index.txt`, '');
    stores.write(`${ca}-serial`, ca === 'root' ? '1000\n' : '2000\n');
    stores.write(`${ca}-crlnumber`, '01\n');
  }
  stores.write('root-ca.cnf', caConfig(dir, 'root', crlBaseUrl, 'global_ca'));
  o('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'global.key', '-out', 'global.csr', '-subj', '/C=US/O=Example/CN=Example Global CA');
  o('ca', '-batch', '-notext', '-config', 'root-ca.cnf', '-in', 'global.csr', '-days', '30', '-out', 'global.crt');

  const service = (name: string, role: 'server' | 'client', alias: string) => {
    stores.write(`my-ca-conf-${role}.cnf`, caConfig(dir, 'global', crlBaseUrl, role));
    // openssl genrsa -out server.key 2048; openssl req -new -key server.key -sha256 -out server.csr
    o('genrsa', '-out', `${name}.key`, '2048');
    o('req', '-new', '-key', `${name}.key`, '-sha256', '-out', `${name}.csr`, '-subj', articleSubject(name));
    // openssl ca -in server.csr -days 365 -config my-ca-conf.cnf -out server.crt
    o('ca', '-batch', '-notext', '-in', `${name}.csr`, '-days', '365', '-config', `my-ca-conf-${role}.cnf`, '-out', `${name}.crt`);
    // cat server.crt global.crt > chain.crt
    stores.write(`${name}-chain.crt`, stores.read(`${name}.crt`) + stores.read('global.crt'));
    // openssl pkcs12 -export -name server-tls -in chain.crt -inkey server.key -out server.p12
    o('pkcs12', '-export', '-name', alias, '-in', `${name}-chain.crt`, '-inkey', `${name}.key`, '-out', `${name}.p12`, ...pass);
    // keytool -importkeystore -destkeystore keystore.jks -srckeystore server.p12 -srcstoretype pkcs12 -alias server-tls
    kt('-importkeystore', '-noprompt', '-destkeystore', `${name}.jks`, '-deststoretype', 'JKS', '-deststorepass', ARTICLE_PASSWORD, '-destkeypass', ARTICLE_PASSWORD,
      '-srckeystore', `${name}.p12`, '-srcstoretype', 'pkcs12', '-srcstorepass', ARTICLE_PASSWORD, '-alias', alias);
    stores.services[name] = {
      key: stores.path(`${name}.key`),
      cert: stores.path(`${name}.crt`),
      chain: stores.path(`${name}-chain.crt`),
      p12: stores.path(`${name}.p12`),
      jks: stores.path(`${name}.jks`),
      alias,
      javaSubject: `CN=${name}, OU=Engineering, O=Example, L=San Francisco, ST=California, C=US`,
    };
  };
  service('user-service', 'server', 'server-tls');
  for (const name of clients) service(name, 'client', 'service-tls');

  // keytool -import -alias root -file root.crt -keystore truststore.jks
  kt('-import', '-noprompt', '-alias', 'root', '-file', 'root.crt', '-keystore', 'truststore.jks', '-storetype', 'JKS', '-storepass', ARTICLE_PASSWORD);
  kt('-import', '-noprompt', '-alias', 'root', '-file', 'root.crt', '-keystore', 'truststore.p12', '-storetype', 'PKCS12', '-storepass', ARTICLE_PASSWORD);
  stores.truststoreJks = stores.path('truststore.jks');
  stores.truststoreP12 = stores.path('truststore.p12');
  stores.rootCrt = stores.path('root.crt');

  // The CRLs the distribution points name, as DER (what RFC 5280 asks a CRL server to serve).
  o('ca', '-gencrl', '-config', 'root-ca.cnf', '-out', 'root.crl.pem');
  o('ca', '-gencrl', '-config', 'my-ca-conf-client.cnf', '-out', 'global.crl.pem');
  o('crl', '-in', 'root.crl.pem', '-outform', 'DER', '-out', 'root.crl');
  o('crl', '-in', 'global.crl.pem', '-outform', 'DER', '-out', 'global.crl');
  return stores;
}
