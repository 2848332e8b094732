/**
 * Distinguished names compared as RFC 8705 §2.1.2 asks: the registered `tls_client_auth_subject_dn`
 * (an RFC 4514 string) against the certificate's subject. Attribute types are case-insensitive and
 * OIDs equal their short names; values compare case-insensitively with insignificant spaces
 * folded (caseIgnoreMatch, RFC 4517); a multi-valued RDN is a set.
 */
export type Rdn = readonly string[]; // sorted "type=value" pairs, normalised
export type Dn = readonly Rdn[]; // most significant first (certificate order: C before CN)

const TYPES: Record<string, string> = {
  '2.5.4.3': 'cn',
  commonname: 'cn',
  '2.5.4.6': 'c',
  countryname: 'c',
  '2.5.4.7': 'l',
  localityname: 'l',
  '2.5.4.8': 'st',
  s: 'st',
  stateorprovincename: 'st',
  '2.5.4.9': 'street',
  streetaddress: 'street',
  '2.5.4.10': 'o',
  organizationname: 'o',
  '2.5.4.11': 'ou',
  organizationalunitname: 'ou',
  '2.5.4.5': 'serialnumber',
  '2.5.4.97': 'organizationidentifier',
  '1.2.840.113549.1.9.1': 'emailaddress',
  e: 'emailaddress',
  email: 'emailaddress',
  '0.9.2342.19200300.100.1.25': 'dc',
  domaincomponent: 'dc',
  '0.9.2342.19200300.100.1.1': 'uid',
  userid: 'uid',
};

/** An RFC 4514 string (least significant RDN first), or `undefined` when it does not parse. */
export function parseRfc4514(dn: string): Dn | undefined {
  const rdns = splitUnescaped(dn, ',');
  if (!rdns) return undefined;
  const parsed = rdns.map((rdn) => parseRdn(rdn));
  if (parsed.some((rdn) => rdn === undefined)) return undefined;
  return (parsed as Rdn[]).reverse();
}

/** Node's `X509Certificate.subject`: one RDN a line, most significant first, multi-values joined by " + ". */
export function parseCertificateSubject(subject: string): Dn | undefined {
  const parsed = subject.split('\n').map((line) => parseRdn(line));
  return parsed.some((rdn) => rdn === undefined) ? undefined : (parsed as Rdn[]);
}

export function sameDn(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((rdn, i) => rdn.length === b[i].length && rdn.every((ava, j) => ava === b[i][j]));
}

function parseRdn(rdn: string): Rdn | undefined {
  const avas = splitUnescaped(rdn, '+');
  if (!avas) return undefined;
  const pairs: string[] = [];
  for (const ava of avas) {
    const eq = indexOfUnescaped(ava, '=');
    if (eq <= 0) return undefined;
    const rawType = ava.slice(0, eq).trim().toLowerCase();
    const type = TYPES[rawType.replace(/^oid\./, '')] ?? rawType;
    const value = unescape(ava.slice(eq + 1).trim());
    if (value === undefined || type === '') return undefined;
    pairs.push(`${type}=${value.replace(/\s+/g, ' ').trim().toLowerCase()}`);
  }
  return pairs.sort();
}

function splitUnescaped(text: string, separator: string): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') {
      if (i + 1 >= text.length) return undefined;
      current += char + text[++i];
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function indexOfUnescaped(text: string, char: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === char) return i;
  }
  return -1;
}

/** RFC 4514 §3 escapes: `\` followed by a special character or two hex digits (UTF-8 bytes). */
function unescape(value: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '\\') {
      bytes.push(...Buffer.from(value[i], 'utf8'));
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (i + 1 < value.length) {
      bytes.push(...Buffer.from(value[++i], 'utf8'));
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
