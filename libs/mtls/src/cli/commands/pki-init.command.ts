import * as path from 'node:path';
import { checkServiceName, DEFAULT_SERVICES, initPki } from '../../dev-pki';
import { asUsage, type CliCommand, type CliIo, listOption, parseCommandArgs, stringOption, UsageError } from './command';

const HELP = `Usage: mtls pki init DIR [--service NAME]... [--rsa] [--force] [--password P] [--crl-url URL] [--ocsp-url URL]

Creates a development PKI in DIR: a root CA, a "global" intermediate CA, and
a certificate for each service with DNS names NAME and localhost, IPs
127.0.0.1 and ::1, the SPIFFE ID spiffe://example.org/NAME (its one URI SAN),
usable as TLS server and client. Without --service: the
demo services ${DEFAULT_SERVICES.join(', ')}.

Options:
  --service NAME  a service to issue a certificate for (repeatable)
  --rsa           RSA 2048 keys instead of ECDSA P-256
  --force         replace an existing PKI in DIR
  --password P    password of the .p12 keystores (default: changeit)
  --crl-url URL   a CRL distribution point in every certificate the global CA
                  issues (serve DIR/global-ca.crl there; enableCRLDP reads it)
  --ocsp-url URL  an OCSP responder in every certificate the global CA issues
                  (e.g. openssl ocsp -index DIR/index.txt -CA DIR/global-ca.crt
                  -rsigner DIR/global-ca.crt -rkey DIR/global-ca.key -nmin 5
                  -port N)
  -h, --help      this help
`;

export const pkiInitCommand: CliCommand = {
  name: 'pki init',
  summary: 'create a dev PKI (root CA, global CA, service certificates)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      service: { type: 'string', multiple: true },
      rsa: { type: 'boolean' },
      force: { type: 'boolean' },
      password: { type: 'string' },
      'crl-url': { type: 'string' },
      'ocsp-url': { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing DIR' : `expected one DIR, got ${positionals.length} arguments`);
    const password = stringOption(values, 'password');
    if (password === '') throw new UsageError('--password must not be empty');
    const given = listOption(values, 'service');
    for (const s of given) asUsage(() => checkServiceName(s));
    const twice = given.find((s, i) => given.indexOf(s) !== i);
    if (twice !== undefined) throw new UsageError(`--service "${twice}" is given twice`);
    const services = given.length > 0 ? given : [...DEFAULT_SERVICES];
    const crlUrl = stringOption(values, 'crl-url');
    const ocspUrl = stringOption(values, 'ocsp-url');
    for (const [option, url] of [['crl-url', crlUrl], ['ocsp-url', ocspUrl]] as const) {
      if (url !== undefined && !/^http:\/\/[^/\s]+/i.test(url)) throw new UsageError(`--${option} must be an http:// URL, got "${url}"`);
    }

    const layout = await initPki(positionals[0], { keyAlgorithm: values.rsa ? 'rsa' : 'ec', force: Boolean(values.force), password, services, crlUrl, ocspUrl });
    const rel = (file: string) => path.relative(layout.dir, file);
    // The CAs do not name these hosts themselves: nest-mtls fetches from them only when they are allowed.
    const revocationHosts = [...new Set([crlUrl, ocspUrl].filter((u): u is string => u !== undefined).map((u) => new URL(u).host))];
    const example = layout.service(services[0]);
    const width = Math.max(18, ...services.map((s) => s.length));
    io.stdout.write(
      [
        `Created a dev PKI in ${layout.dir} (${layout.keyAlgorithm === 'rsa' ? 'RSA 2048' : 'ECDSA P-256'} keys):`,
        `  root CA      ${rel(layout.rootCa)}  ${rel(layout.rootCaKey)}`,
        `  global CA    ${rel(layout.globalCa)}  ${rel(layout.globalCaKey)}`,
        `  trust store  ${rel(layout.trustStore)} (the root CA only)`,
        `  CRLs         ${rel(layout.crl)} (root and global CA, nothing revoked), ${rel(layout.globalCrl)} (global CA, DER)`,
        `  CA database  ${rel(layout.index)} (for openssl ocsp -index)`,
        ...(crlUrl ? [`  CRL distribution point of issued certificates: ${crlUrl} (serve ${rel(layout.globalCrl)} there)`] : []),
        ...(ocspUrl ? [`  OCSP responder of issued certificates: ${ocspUrl}`] : []),
        ...services.map((s) => {
          const f = layout.service(s);
          return `  ${s.padEnd(width)} ${rel(f.cert)}  ${rel(f.key)}  ${rel(f.chain)}  ${rel(f.p12)} (alias ${s})`;
        }),
        '',
        `Next steps: run a service with its keystore, e.g. ${services[0]}:`,
        `  export MTLS_KEY_STORE_PATH=${example.p12}`,
        `  export MTLS_KEY_STORE_PASSWORD=${layout.password}`,
        `  export MTLS_TRUST_STORE_PATH=${layout.trustStore}`,
        `  export MTLS_CRL_PATH=${layout.crl}`,
        `(or MTLS_CERT_PATH=${example.chain} and MTLS_KEY_PATH=${example.key} instead of the keystore)`,
        ...(crlUrl ? ['  export MTLS_ENABLE_CRLDP=true'] : []),
        ...(ocspUrl ? ['  export MTLS_OCSP=true'] : []),
        ...(revocationHosts.length > 0 ? [`  export MTLS_REVOCATION_ALLOWED_HOSTS=${revocationHosts.join(',')}`] : []),
        `More certificates: mtls pki issue --cn NAME ${layout.dir}; revoke one: mtls pki revoke ${layout.dir} --cert FILE`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
