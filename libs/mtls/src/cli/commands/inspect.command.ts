import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { ClientIdentity } from '../../identity/client-identity.interface';
import { issuerDn, subjectDn } from '../../identity/dn-format';
import { identityFromCertificate } from '../../identity/identity-from-certificate';
import { type CliCommand, type CliIo, CommandError, parseCommandArgs, UsageError } from './command';

const HELP = `Usage: mtls inspect FILE

Prints what the guard sees of a certificate. FILE is PEM (the first
certificate of a chain is shown) or DER.

  subject: the DN policies match, exactly as
           openssl x509 -noout -subject -nameopt RFC2253,-esc_msb prints it
  issuer, san, spiffe, not before, not after, serial, sha256
  and a warning line when the certificate has expired or is not yet valid.
`;

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'show the subject DN, SANs, SPIFFE ID and validity of a certificate',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {});
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing FILE' : `expected one FILE, got ${positionals.length} arguments`);
    const file = positionals[0];
    const cert = await readCertificate(file);
    let identity: ClientIdentity;
    try {
      identity = identityFromCertificate(cert);
    } catch (err) {
      throw new CommandError(`${file}: cannot read the certificate: ${(err as Error).message}`);
    }
    const san = [
      ...identity.san.dns.map((v) => `DNS:${v}`),
      ...identity.san.uri.map((v) => `URI:${v}`),
      ...identity.san.ip.map((v) => `IP:${v}`),
      ...identity.san.email.map((v) => `email:${v}`),
    ];
    const lines = [
      `subject: ${subjectDn(cert)}`,
      `issuer: ${issuerDn(cert)}`,
      `san: ${san.length > 0 ? san.join(', ') : '(none)'}`,
      ...(identity.spiffeId ? [`spiffe: ${identity.spiffeId}`] : []),
      `not before: ${identity.validFrom.toISOString()}`,
      `not after: ${identity.validTo.toISOString()}`,
      `serial: ${identity.serialNumber}`,
      `sha256: ${identity.fingerprint256}`,
    ];
    const now = Date.now();
    if (identity.validTo.getTime() < now) lines.push(`EXPIRED: not valid since ${identity.validTo.toISOString()}`);
    else if (identity.validFrom.getTime() > now) lines.push(`NOT YET VALID: valid from ${identity.validFrom.toISOString()}`);
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};

/** The first certificate of a PEM file, or a DER certificate; errors name the file and the problem. */
async function readCertificate(file: string): Promise<X509Certificate> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new CommandError(`${file}: ${why}`);
  }
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const pem = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/);
    if (!pem) throw new CommandError(`${file}: no certificate in it (PEM without a CERTIFICATE block)`);
    try {
      return new X509Certificate(pem[0]);
    } catch {
      throw new CommandError(`${file}: the first PEM certificate is damaged`);
    }
  }
  try {
    return new X509Certificate(data);
  } catch {
    throw new CommandError(`${file}: not a certificate (neither PEM nor DER X.509)`);
  }
}
