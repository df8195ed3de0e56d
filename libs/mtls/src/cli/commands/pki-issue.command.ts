import { isIP } from 'node:net';
import * as path from 'node:path';
import { checkServiceName, issueIntoPki } from '../../dev-pki';
import { nameFromRfc4514, type ExtendedKeyUsageName } from '../../testing';
import { devSpiffeId } from '../../pki/dev-pki';
import {
  asUsage,
  type CliCommand,
  type CliIo,
  exclusive,
  listOption,
  parseCommandArgs,
  stringOption,
  UsageError,
  wholeNumberOption,
} from './command';

const MAX_DAYS = 36500;

const HELP = `Usage: mtls pki issue (--cn NAME | --subject DN [--name NAME]) [options] DIR

Issues one more certificate from the global CA of the dev PKI in DIR and
writes NAME.crt, NAME.key, NAME.chain.pem and NAME.p12 (alias NAME),
replacing any earlier ones.

Options:
  --cn NAME        subject CN=NAME,O=nest-mtls; NAME also names the files
  --subject DN     the whole subject instead, RFC 4514, most specific first
                   (e.g. "CN=batch+OU=jobs,O=Example"); not with --cn
  --name NAME      base name of the files and the .p12 alias
                   (default: the --cn, or the subject's CN)
  --dns D          DNS name (repeatable)
  --uri U          URI, e.g. a SPIFFE ID (repeatable)
  --ip I           IP address (repeatable)
                   (without --dns/--uri/--ip: DNS NAME and localhost, IP 127.0.0.1
                   and ::1, URI spiffe://example.org/NAME)
  --client-only    extended key usage clientAuth only
  --server-only    extended key usage serverAuth only
  --days N         validity in days, 1 to ${MAX_DAYS} (default: 365)
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
      name: { type: 'string' },
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
    exclusive(values, 'cn', 'subject', '--subject is the whole DN (name the files with --name)');
    exclusive(values, 'client-only', 'server-only', 'leave both out for a certificate that does both');
    const cn = stringOption(values, 'cn');
    const given = stringOption(values, 'subject');
    if (cn === undefined && given === undefined) throw new UsageError('--cn NAME or --subject DN is required');
    if (cn === '' || given === '') throw new UsageError(`--${cn === '' ? 'cn' : 'subject'} must not be empty`);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing DIR' : `expected one DIR, got ${positionals.length} arguments`);
    const days = wholeNumberOption('days', stringOption(values, 'days'), 365, 1, MAX_DAYS);
    const dns = listOption(values, 'dns');
    const uri = listOption(values, 'uri');
    const ip = listOption(values, 'ip');
    const badIp = ip.find((i) => isIP(i) === 0);
    if (badIp !== undefined) throw new UsageError(`--ip "${badIp}" is not an IP address`);
    const badUri = uri.find((u) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(u));
    if (badUri !== undefined) throw new UsageError(`--uri "${badUri}" is not a URI (scheme:...)`);
    const password = stringOption(values, 'password');
    if (password === '') throw new UsageError('--password must not be empty');

    const subject = given ?? `CN=${cn},O=nest-mtls`;
    let name = stringOption(values, 'name') ?? cn;
    asUsage(() => nameFromRfc4514(subject));
    if (name === undefined) {
      // The most specific CN names the files: openssl's order is the reverse of the encoding.
      const subjectCn = nameFromRfc4514(subject).getField('CN').at(-1);
      if (subjectCn === undefined) throw new UsageError('--subject has no CN to name the files: give --name NAME');
      try {
        checkServiceName(subjectCn);
      } catch {
        throw new UsageError(`the subject's CN "${subjectCn}" cannot name files: give --name NAME`);
      }
      name = subjectCn;
    }
    asUsage(() => checkServiceName(name));
    const noSans = dns.length + uri.length + ip.length === 0;
    const eku: ExtendedKeyUsageName[] = values['client-only'] ? ['clientAuth'] : values['server-only'] ? ['serverAuth'] : ['serverAuth', 'clientAuth'];

    const files = await issueIntoPki(positionals[0], {
      name,
      subject,
      dns: noSans ? [name, 'localhost'] : dns,
      uri: noSans ? [devSpiffeId(name)] : uri,
      ip: noSans ? ['127.0.0.1', '::1'] : ip,
      extendedKeyUsage: eku,
      notAfter: new Date(Date.now() + days * 24 * 60 * 60 * 1000),
      keyAlgorithm: values.rsa ? 'rsa' : undefined,
      password,
    });
    const dir = path.dirname(files.cert);
    io.stdout.write(
      [
        `Issued ${subject} as ${name} in ${dir}:`,
        `  ${files.cert}`,
        `  ${files.key}`,
        `  ${files.chain}`,
        `  ${files.p12} (alias ${name})`,
        `Inspect it: mtls inspect ${files.cert}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
