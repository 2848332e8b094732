import { parseCertificateSubject, parseRfc4514, sameDn } from './distinguished-name';

describe('distinguished names (RFC 4514 vs certificate subject)', () => {
  // As Node prints the subject of: openssl -subj "/C=GB/O=TPP Ltd, Inc/OU=Payments+L=London/CN=tpp.example"
  const subject = 'C=GB\nO=TPP Ltd\\, Inc\nL=London + OU=Payments\nCN=tpp.example';

  it.each([
    'CN=tpp.example,OU=Payments+L=London,O=TPP Ltd\\, Inc,C=GB',
    'cn=TPP.EXAMPLE, l=London+ou=Payments, o=TPP  Ltd\\, Inc, c=gb',
    '2.5.4.3=tpp.example,OU=Payments+L=London,O=TPP Ltd\\2C Inc,C=GB',
    'commonName=tpp.example,OU=Payments+L=London,organizationName=TPP Ltd\\, Inc,countryName=GB',
  ])('matches %j', (registered) => {
    expect(sameDn(parseRfc4514(registered)!, parseCertificateSubject(subject)!)).toBe(true);
  });

  it.each([
    ['a different CN', 'CN=evil.example,OU=Payments+L=London,O=TPP Ltd\\, Inc,C=GB'],
    ['a missing RDN', 'CN=tpp.example,OU=Payments+L=London,O=TPP Ltd\\, Inc'],
    ['an extra RDN', 'CN=tpp.example,OU=Payments+L=London,O=TPP Ltd\\, Inc,C=GB,DC=x'],
    ['the RDNs in certificate order', 'C=GB,O=TPP Ltd\\, Inc,OU=Payments+L=London,CN=tpp.example'],
    ['a split multi-valued RDN', 'CN=tpp.example,OU=Payments,L=London,O=TPP Ltd\\, Inc,C=GB'],
    ['an unescaped comma in a value', 'CN=tpp.example,OU=Payments+L=London,O=TPP Ltd, Inc,C=GB'],
  ])('does not match %s', (_name, registered) => {
    const parsed = parseRfc4514(registered);
    expect(parsed !== undefined && sameDn(parsed, parseCertificateSubject(subject)!)).toBe(false);
  });

  it('refuses strings that are not DNs', () => {
    expect(parseRfc4514('no equals sign')).toBeUndefined();
    expect(parseRfc4514('CN=trailing\\')).toBeUndefined();
    expect(parseRfc4514('=value')).toBeUndefined();
  });
});
