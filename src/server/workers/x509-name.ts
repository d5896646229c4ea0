// A certificate's subject as the RFC 2253 string Java's X500Principal.getName() gives, which is
// the id ZooKeeper's X509AuthenticationProvider assigns a client ("CN=alice,O=Acme\, Inc.,C=US").
// Node's X509Certificate.subject is OpenSSL's own one-line-per-RDN text (issuer order, no RFC
// escaping, multi-valued RDNs ambiguous), so the DER subject is read here: the last RDN first,
// keywords for the attribute types RFC 2253 names, dotted OIDs with the value's DER in hex for
// the rest, special characters escaped with a backslash.
import { X509Certificate } from 'node:crypto';
import { assert } from '../../common/assert.js';

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
  headerStart: number;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  assert(at + 2 <= limit, 'DER: truncated header');
  const tag = der[at]!;
  let len = der[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    assert(n >= 1 && n <= 4 && p + n <= limit, 'DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i]!;
    p += n;
  }
  assert(p + len <= limit, 'DER: content past its parent');
  return { tag, start: p, end: p + len, headerStart: at };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

function oidText(der: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (der[i]! & 0x7f);
    if ((der[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The keywords RFC 2253 section 2.3 defines (and Java prints); other types are dotted OIDs. */
const keywords: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** String types whose content is text: UTF8String, PrintableString, T61 (as Latin-1), IA5, BMPString. */
function valueText(der: Uint8Array, t: Tlv): string | null {
  const bytes = Buffer.from(der.subarray(t.start, t.end));
  switch (t.tag) {
    case 0x0c: // UTF8String
      return bytes.toString('utf8');
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString
      return bytes.toString('latin1');
    case 0x1e: // BMPString: UTF-16BE
      return Buffer.from(bytes).swap16().toString('utf16le');
    default:
      return null;
  }
}

function escape(v: string): string {
  let out = v.replace(/[,+"\\<>;]/g, (c) => '\\' + c);
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = out.slice(0, -1) + '\\ ';
  return out;
}

/** RFC 2253 text of a DER Name (SEQUENCE OF RDN, each a SET OF {type, value}). */
export function rfc2253(der: Uint8Array, name: Tlv): string {
  const rdns = children(der, name).map((rdn) =>
    children(der, rdn)
      .map((atv) => {
        const [type, value] = children(der, atv);
        assert(type !== undefined && value !== undefined && type.tag === 0x06, 'DER: AttributeTypeAndValue');
        const oid = oidText(der, type);
        const key = keywords[oid];
        const text = valueText(der, value);
        if (key === undefined || text === null) return `${oid}=#${Buffer.from(der.subarray(value.headerStart, value.end)).toString('hex')}`;
        return `${key}=${escape(text)}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}

/** The subject DN of a certificate (DER or an X509Certificate) as X500Principal.getName() prints it. */
export function subjectDn(cert: X509Certificate | Uint8Array): string {
  const der = cert instanceof X509Certificate ? new Uint8Array(cert.raw) : cert;
  const top = readTlv(der, 0, der.length);
  const [tbsTlv] = children(der, top);
  assert(tbsTlv !== undefined && tbsTlv.tag === 0x30, 'DER: TBSCertificate');
  const tbs = children(der, tbsTlv);
  // [0] version is optional (v1 certificates omit it); then serial, signature, issuer, validity, subject.
  const first = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const subject = tbs[first + 4];
  assert(subject !== undefined && subject.tag === 0x30, 'DER: subject Name');
  return rfc2253(der, subject);
}
