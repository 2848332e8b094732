import { PROFILE_NAMES, PROFILE_ROWS, type ProfileName } from './profiles';
import { ERROR_CODES, ProtocolError } from './protocol-error';

const badRequest = new ProtocolError('invalid_request', 'token is required', { detail: 'private', clientAuthId: 'ca-1' });
const unauthorized = new ProtocolError('invalid_client', 'client authentication failed', { detail: 'private', clientAuthId: 'ca-2' });

const RENDERERS = Object.fromEntries(PROFILE_NAMES.map((profile) => [profile, PROFILE_ROWS[profile].errors.render])) as Record<
  ProfileName,
  (error: ProtocolError) => Record<string, unknown>
>;

describe('RENDERERS', () => {
  it('has a renderer for every profile', () => {
    expect(Object.keys(RENDERERS).sort()).toEqual([...PROFILE_NAMES].sort());
  });

  it('rfc7009 renders error and error_description, adding client_auth_id only on 401', () => {
    expect(RENDERERS.rfc7009(badRequest)).toEqual({ error: 'invalid_request', error_description: 'token is required' });
    expect(RENDERERS.rfc7009(unauthorized)).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
      client_auth_id: 'ca-2',
    });
    expect(RENDERERS.rfc7009(new ProtocolError('invalid_client', 'x'))).toEqual({ error: 'invalid_client', error_description: 'x' });
  });

  it('fapi renders a list of descriptions', () => {
    expect(RENDERERS.fapi(badRequest)).toEqual({ errors: ['token is required'] });
    expect(RENDERERS.fapi(unauthorized)).toEqual({ errors: ['client authentication failed'] });
  });

  it('oam renders errorCode and errorMessage', () => {
    expect(RENDERERS.oam(badRequest)).toEqual({ errorCode: 'invalid_request', errorMessage: 'token is required' });
    expect(RENDERERS.oam(unauthorized)).toEqual({ errorCode: 'invalid_client', errorMessage: 'client authentication failed' });
  });

  it('idv1 renders error and errorDescription', () => {
    expect(RENDERERS.idv1(badRequest)).toEqual({ error: 'invalid_request', errorDescription: 'token is required' });
    expect(RENDERERS.idv1(unauthorized)).toEqual({ error: 'invalid_client', errorDescription: 'client authentication failed' });
  });

  it('cdr renders a CDS error URN, title and detail', () => {
    expect(RENDERERS.cdr(badRequest)).toEqual({
      errors: [{ code: 'urn:au-cds:error:cds-all:Field/Invalid', title: 'Invalid Field', detail: 'token is required' }],
    });
    expect(RENDERERS.cdr(unauthorized)).toEqual({
      errors: [{ code: 'urn:au-cds:error:cds-all:Authorisation/Unauthorized', title: 'Unauthorized', detail: 'client authentication failed' }],
    });
  });

  it('never leaks the private detail', () => {
    for (const profile of PROFILE_NAMES) {
      expect(JSON.stringify(RENDERERS[profile](unauthorized))).not.toContain('private');
    }
  });

  it.each(ERROR_CODES)('renders %s for every profile', (code) => {
    const error = new ProtocolError(code, 'description');
    for (const profile of PROFILE_NAMES) {
      expect(JSON.stringify(RENDERERS[profile](error))).toContain('description');
    }
    const [cdr] = (RENDERERS.cdr(error) as { errors: { code: string; title: string }[] }).errors;
    expect(cdr.code).toMatch(/^urn:au-cds:error:cds-all:[A-Za-z]+\/[A-Za-z]+$/);
    expect(cdr.title).not.toBe('');
  });
});
