/**
 * Whether a DNS SAN is a host name that may be resolved, or an address (or
 * something else) spelled as a name. The system resolver reads numeric
 * spellings as addresses without asking DNS (`2130706433`, `127.1`,
 * `0x7f.0.0.1`, `0177.0.0.1` and `0x7f000001` are all 127.0.0.1 to
 * `getaddrinfo`), so a certificate carrying one as a DNS SAN would name an
 * address without an IP SAN. Java matches addresses against IP SANs only; so
 * do we: a name whose last label is a number (decimal, or `0x` hex: the
 * WHATWG URL "ends in a number" rule, which covers every inet_aton form) is
 * not a host name, nor is a name with characters outside letters, digits,
 * `-` and `_`, an empty label, a label over 63 characters or a name over 253.
 */
export function hostNameProblem(name: string): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return 'is not a host name (empty or longer than 253 characters)';
  const labels = bare.split('.');
  for (const label of labels) {
    if (!/^[A-Za-z0-9_-]{1,63}$/.test(label)) return 'is not a host name (a label is empty, too long, or has characters other than letters, digits, - and _)';
  }
  const last = labels[labels.length - 1];
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/i.test(last)) return 'is an address spelled as a name, not a host name (addresses match IP SANs only)';
  return undefined;
}
