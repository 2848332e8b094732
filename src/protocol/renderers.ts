import type { ErrorCode, ProtocolError } from './protocol-error';
import type { ProfileName } from './profiles';

/** The body a profile sends for an error (docs/api.md §2 "error body"). */
export type ErrorRenderer = (error: ProtocolError) => Record<string, unknown>;

const rfc7009: ErrorRenderer = (error) => ({
  error: error.code,
  error_description: error.description,
  ...(error.status === 401 && error.clientAuthId ? { client_auth_id: error.clientAuthId } : {}),
});

/** CDR error codes (Consumer Data Standards, "Error Codes"): a URN and a title per status class. */
function cdrError(error: ProtocolError): { code: string; title: string } {
  const code: ErrorCode = error.code;
  switch (code) {
    case 'invalid_request':
    case 'unsupported_token_type':
      return error.missing
        ? { code: 'urn:au-cds:error:cds-all:Field/Missing', title: 'Missing Required Field' }
        : { code: 'urn:au-cds:error:cds-all:Field/Invalid', title: 'Invalid Field' };
    case 'invalid_arrangement':
      return { code: 'urn:au-cds:error:cds-all:Authorisation/InvalidArrangement', title: 'Invalid Consent Arrangement' };
    case 'invalid_client':
      return { code: 'urn:au-cds:error:cds-all:Authorisation/Unauthorized', title: 'Unauthorized' };
    case 'not_found':
      return { code: 'urn:au-cds:error:cds-all:Resource/NotFound', title: 'Resource Not Found' };
    case 'method_not_allowed':
      return { code: 'urn:au-cds:error:cds-all:Header/InvalidMethod', title: 'Method Not Allowed' };
    case 'not_acceptable':
      return { code: 'urn:au-cds:error:cds-all:Header/InvalidVersion', title: 'Not Acceptable' };
    case 'too_many_requests':
      return { code: 'urn:au-cds:error:cds-all:General/TooManyRequests', title: 'Too Many Requests' };
    case 'server_error':
    case 'bad_gateway':
    case 'gateway_timeout':
      return { code: 'urn:au-cds:error:cds-all:GeneralError/Unexpected', title: 'Unexpected Error Encountered' };
    case 'temporarily_unavailable':
      return { code: 'urn:au-cds:error:cds-all:Service/Unavailable', title: 'Service Unavailable' };
    default:
      return assertUnreachable(code);
  }
}

function assertUnreachable(value: never): never {
  throw new Error(`unmapped error code ${String(value)}`);
}

/** One place per profile; a new profile adds an entry here, not a new error path. */
export const RENDERERS: Readonly<Record<ProfileName, ErrorRenderer>> = {
  rfc7009,
  fapi: (error) => ({ errors: [error.description] }),
  oam: (error) => ({ errorCode: error.code, errorMessage: error.description }),
  idv1: (error) => ({ error: error.code, errorDescription: error.description }),
  cdr: (error) => ({ errors: [{ ...cdrError(error), detail: error.description }] }),
};
