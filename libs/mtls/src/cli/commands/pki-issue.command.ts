import { isIP } from 'node:net';
import * as path from 'node:path';
import { checkServiceName, issueIntoPki, nameFromRfc4514, type ExtendedKeyUsageName } from '../../pki';
import { type CliCommand, type CliIo, parseCommandArgs, UsageError } from './command';

const HELP = `Usage: mtls pki issue --cn NAME [options] DIR

Issues one more certificate from the global CA of the dev PKI in DIR and
writes NAME.crt, NAME.key, NAME.chain.pem and NAME.p12 (alias NAME),
replacing any earlier ones.

Options:
  --cn NAME        common name, and the base name of the files (required)
  --subject DN     full subject, RFC 4514, most specific first
                   (default: CN=NAME,O=nest-mtls)
  --dns D          DNS name (repeatable)
  --uri U          URI, e.g. a SPIFFE ID (repeatable)
  --ip I           IP address (repeatable)
                   (without --dns/--uri/--ip: DNS NAME and localhost, IP 127.0.0.1 and ::1)
  --client-only    extended key usage clientAuth only
  --server-only    extended key usage serverAuth only
  --days N         validity in days (default: 365)
  --rsa            RSA 2048 key instead of ECDSA P-256
  --password P     password of NAME.p12 (default: the PKI's)
  -h, --help       this help
`;

export const pkiIssueCommand: CliCommand = {
  name: 'pki issue',
  summary: 'issue one more certificate from the dev PKI',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      cn: { type: 'string' },
      subject: { type: 'string' },
      dns: { type: 'string', multiple: true },
      uri: { type: 'string', multiple: true },
      ip: { type: 'string', multiple: true },
      'client-only': { type: 'boolean' },
      'server-only': { type: 'boolean' },
      days: { type: 'string' },
      rsa: { type: 'boolean' },
      password: { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const cn = values.cn as string | undefined;
    if (!cn) throw new UsageError('--cn NAME is required');
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing DIR' : `expected one DIR, got ${positionals.length} arguments`);
    if (values['client-only'] && values['server-only']) throw new UsageError('--client-only and --server-only exclude each other');
    const days = values.days === undefined ? 365 : Number(values.days);
    if (!Number.isInteger(days) || days < 1) throw new UsageError(`--days must be a whole number of days >= 1, got "${String(values.days)}"`);
    const dns = (values.dns as string[] | undefined) ?? [];
    const uri = (values.uri as string[] | undefined) ?? [];
    const ip = (values.ip as string[] | undefined) ?? [];
    const badIp = ip.find((i) => isIP(i) === 0);
    if (badIp !== undefined) throw new UsageError(`--ip "${badIp}" is not an IP address`);
    const badUri = uri.find((u) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(u));
    if (badUri !== undefined) throw new UsageError(`--uri "${badUri}" is not a URI (scheme:...)`);
    if (values.password === '') throw new UsageError('--password must not be empty');
    const subject = (values.subject as string | undefined) ?? `CN=${cn},O=nest-mtls`;
    asUsage(() => checkServiceName(cn));
    asUsage(() => nameFromRfc4514(subject));
    const noSans = dns.length + uri.length + ip.length === 0;
    const eku: ExtendedKeyUsageName[] = values['client-only'] ? ['clientAuth'] : values['server-only'] ? ['serverAuth'] : ['serverAuth', 'clientAuth'];

    const files = await issueIntoPki(positionals[0], {
      name: cn,
      subject,
      dns: noSans ? [cn, 'localhost'] : dns,
      uri,
      ip: noSans ? ['127.0.0.1', '::1'] : ip,
      extendedKeyUsage: eku,
      notAfter: new Date(Date.now() + days * 24 * 60 * 60 * 1000),
      keyAlgorithm: values.rsa ? 'rsa' : undefined,
      password: values.password as string | undefined,
    });
    const dir = path.dirname(files.cert);
    io.stdout.write(
      [
        `Issued ${cn} in ${dir}:`,
        `  ${files.cert}`,
        `  ${files.key}`,
        `  ${files.chain}`,
        `  ${files.p12} (alias ${cn})`,
        `Inspect it: mtls inspect ${files.cert}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

/** Runs a validation; its error becomes a usage error. */
function asUsage(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
