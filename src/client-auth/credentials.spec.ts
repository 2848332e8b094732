import fc from 'fast-check';
import { parseForm } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';
import { CredentialsUnreadable, JWT_BEARER_ASSERTION, parseBasicAuthorization, presentedCredentials } from './credentials';

const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
const basic = (id: string, secret: string, scheme = 'Basic') =>
  `${scheme} ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;
const b64 = (raw: string) => Buffer.from(raw, 'utf8').toString('base64');

const unicode = (minLength = 0) =>
  fc.string({ unit: fc.oneof(fc.constantFrom(':', '+', '%', ' ', '&', '='), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectUnreadable(fn: () => unknown, viaHeader: boolean): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(CredentialsUnreadable);
  expect((error as CredentialsUnreadable).viaAuthorizationHeader).toBe(viaHeader);
}

function expectBadRequest(fn: () => unknown): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).status).toBe(400);
  expect((error as ProtocolError).code).toBe('invalid_request');
}

describe('parseBasicAuthorization', () => {
  it('recovers any form-encoded client id and secret', () => {
    fc.assert(
      fc.property(unicode(1), unicode(), (clientId, secret) => {
        expect(parseBasicAuthorization(basic(clientId, secret))).toEqual({ clientId, secret });
      }),
    );
  });

  it('accepts the scheme in any case', () => {
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      expect(parseBasicAuthorization(basic('client', 's3cret', scheme))).toEqual({ clientId: 'client', secret: 's3cret' });
    }
  });

  it('decodes + as a space and %2B as a plus', () => {
    expect(parseBasicAuthorization(`Basic ${b64('my+client:a%2Bb')}`)).toEqual({ clientId: 'my client', secret: 'a+b' });
  });

  it('splits at the first colon so a secret may contain raw colons', () => {
    expect(parseBasicAuthorization(`Basic ${b64('client:a:b')}`)).toEqual({ clientId: 'client', secret: 'a:b' });
  });

  it.each([
    ['no colon', `Basic ${b64('client')}`],
    ['bad base64', 'Basic @@@@'],
    ['no credentials', 'Basic '],
    ['bad percent escape in the id', `Basic ${b64('cl%zz:secret')}`],
    ['bad percent escape in the secret', `Basic ${b64('client:%E0%A4%A')}`],
    ['empty client id', `Basic ${b64(':secret')}`],
    ['another scheme', `Bearer ${b64('client:secret')}`],
    ['extra tokens', `Basic ${b64('client:secret')} extra`],
    ['empty header', ''],
  ])('refuses %s as unreadable via the header', (_name, header) => {
    expectUnreadable(() => parseBasicAuthorization(header), true);
  });

  it('throws nothing but CredentialsUnreadable for arbitrary headers', () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }).map((raw) => `Basic ${raw}`),
      fc.string({ unit: 'binary' }).map((raw) => `Basic ${b64(raw)}`),
    );
    fc.assert(
      fc.property(header, (value) => {
        try {
          const result = parseBasicAuthorization(value);
          expect(result.clientId).not.toBe('');
        } catch (error) {
          expect(error).toBeInstanceOf(CredentialsUnreadable);
          expect((error as CredentialsUnreadable).viaAuthorizationHeader).toBe(true);
        }
      }),
    );
  });
});

describe('presentedCredentials', () => {
  it('detects client_secret_basic from the Authorization header', () => {
    expect(presentedCredentials(basic('client', 'pw'), parseForm('token=t'))).toEqual({
      method: 'client_secret_basic',
      clientId: 'client',
      secret: 'pw',
      viaAuthorizationHeader: true,
    });
  });

  it('detects client_secret_post from client_id and client_secret in the body', () => {
    expect(presentedCredentials(undefined, parseForm('client_id=client&client_secret=pw'))).toEqual({
      method: 'client_secret_post',
      clientId: 'client',
      secret: 'pw',
      viaAuthorizationHeader: false,
    });
  });

  it('detects private_key_jwt from a jwt-bearer client assertion', () => {
    const form = parseForm(new URLSearchParams({ client_assertion: 'a.b.c', client_assertion_type: JWT_BEARER_ASSERTION }).toString());
    expect(presentedCredentials(undefined, form)).toEqual({
      method: 'private_key_jwt',
      clientId: undefined,
      assertion: 'a.b.c',
      viaAuthorizationHeader: false,
    });
    const withId = parseForm(`client_id=client&${new URLSearchParams({ client_assertion: 'a.b.c', client_assertion_type: JWT_BEARER_ASSERTION })}`);
    expect(presentedCredentials(undefined, withId)).toMatchObject({ method: 'private_key_jwt', clientId: 'client' });
  });

  it('detects a public client (none) from client_id alone', () => {
    expect(presentedCredentials(undefined, parseForm('client_id=client&token=t'))).toEqual({
      method: 'none',
      clientId: 'client',
      viaAuthorizationHeader: false,
    });
  });

  it.each([
    ['Basic and client_secret', basic('client', 'pw'), 'client_secret=pw'],
    ['Basic and client_assertion', basic('client', 'pw'), `client_assertion=x&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}`],
    ['client_secret and client_assertion', undefined, 'client_id=client&client_secret=pw&client_assertion=x'],
  ])('refuses two methods at once (%s) with 400', (_name, header, body) => {
    expectBadRequest(() => presentedCredentials(header, parseForm(body)));
  });

  it('refuses a body client_id that differs from the Basic client id with 400', () => {
    expectBadRequest(() => presentedCredentials(basic('client', 'pw'), parseForm('client_id=other')));
  });

  it('accepts a body client_id equal to the Basic client id', () => {
    expect(presentedCredentials(basic('client', 'pw'), parseForm('client_id=client'))).toMatchObject({
      method: 'client_secret_basic',
      clientId: 'client',
    });
  });

  it('reports a malformed Basic header as unreadable via the header', () => {
    expectUnreadable(() => presentedCredentials('Basic !!', parseForm('')), true);
  });

  it.each([
    ['nothing', ''],
    ['an empty client_id', 'client_id='],
    ['client_secret without client_id', 'client_secret=pw'],
    ['a non-jwt-bearer assertion type', 'client_assertion=x&client_assertion_type=saml'],
    ['an assertion type without assertion', `client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}`],
  ])('reports %s as unreadable, not via the header', (_name, body) => {
    expectUnreadable(() => presentedCredentials(undefined, parseForm(body)), false);
  });
});
