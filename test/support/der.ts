/**
 * Test-only DER writing and reading, for crafting names and certificates
 * byte by byte (hostile encodings that no certificate library would write).
 */

export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

export function tlv(tag: number, content: Buffer | number[]): Buffer {
  const body = Buffer.from(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

/** OID encoder (base 128, arcs of any size). */
export function oidDer(oid: string): Buffer {
  const arcs = oid.split('.').map(BigInt);
  const sids = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const sid of sids) {
    const groups: number[] = [];
    let rest = sid;
    do {
      groups.unshift(Number(rest & 0x7fn));
      rest >>= 7n;
    } while (rest > 0n);
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, bytes);
}

export const utf8 = (s: string | number[]): Buffer => tlv(0x0c, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

/** One RDN: its attributes as [OID, encoded value]. */
export type Rdn = [string, Buffer][];

/** An X.501 Name from RDNs in encoded order (least specific first). */
export function nameDer(rdns: Rdn[]): Buffer {
  return tlv(0x30, Buffer.concat(rdns.map((rdn) => tlv(0x31, Buffer.concat(rdn.map(([oid, value]) => tlv(0x30, Buffer.concat([oidDer(oid), value]))))))));
}

/** The top-level elements inside a DER SEQUENCE's content (definite lengths). */
export function children(seq: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const header = (buf: Buffer, at: number) => {
    const first = buf[at + 1];
    if (first < 0x80) return { len: first, head: 2 };
    const n = first & 0x7f;
    return { len: buf.subarray(at + 2, at + 2 + n).reduce((v, b) => v * 256 + b, 0), head: 2 + n };
  };
  const outer = header(seq, 0);
  let at = outer.head;
  while (at < outer.head + outer.len) {
    const { len, head } = header(seq, at);
    out.push(seq.subarray(at, at + head + len));
    at += head + len;
  }
  return out;
}

/** `tbs` with its subject Name replaced (index 5 in a v3 TBSCertificate, 4 in v1). */
export function tbsWithSubject(tbs: Buffer, subject: Buffer): Buffer {
  const parts = children(tbs);
  const at = parts[0][0] === 0xa0 ? 5 : 4;
  return tlv(0x30, Buffer.concat([...parts.slice(0, at), subject, ...parts.slice(at + 1)]));
}

/** `tbs` with the extension `oid` marked critical (an extension already critical stays as it is). */
export function tbsWithCriticalExtension(tbs: Buffer, oid: string): Buffer {
  const wanted = oidDer(oid);
  const parts = children(tbs).map((part) => {
    if (part[0] !== 0xa3) return part;
    const extensions = children(children(part)[0]).map((extension) => {
      const [type, ...rest] = children(extension);
      return type.equals(wanted) && rest.length === 1 ? tlv(0x30, Buffer.concat([type, tlv(0x01, [0xff]), rest[0]])) : extension;
    });
    return tlv(0xa3, tlv(0x30, Buffer.concat(extensions)));
  });
  return tlv(0x30, Buffer.concat(parts));
}
