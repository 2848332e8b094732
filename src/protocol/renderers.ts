import type { ErrorCode, ProtocolError } from './protocol-error';

/** The body a profile sends for an error (docs/api.md §2 "error body"). */
export type ErrorRenderer = (error: ProtocolError) => Record<string, unknown>;

/** An error body: how it is rendered, and its JSON Schema for the OpenAPI document. */
export interface ErrorShape {
  readonly name: string;
  readonly render: ErrorRenderer;
  readonly schema: Record<string, unknown>;
}

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
    case 'invalid_token':
      return { code: 'urn:au-cds:error:cds-all:Authorisation/Unauthorized', title: 'Unauthorized' };
    case 'access_denied':
      return { code: 'urn:au-cds:error:cds-all:Authorisation/Forbidden', title: 'Forbidden' };
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

const string = { type: 'string' };

/** The error bodies of the profiles (docs/api.md §2); a profile row names its shape. */
export const ERROR_SHAPES = {
  rfc7009: {
    name: 'rfc7009',
    render: rfc7009,
    schema: {
      type: 'object',
      required: ['error', 'error_description'],
      properties: {
        error: { type: 'string', examples: ['invalid_request'] },
        error_description: string,
        client_auth_id: { type: 'string', format: 'uuid', description: 'On 401: the id under which the cause is logged.' },
      },
    },
  },
  fapi: {
    name: 'fapi',
    render: (error) => ({ errors: [error.description] }),
    schema: { type: 'object', required: ['errors'], properties: { errors: { type: 'array', items: string } } },
  },
  oam: {
    name: 'oam',
    render: (error) => ({ errorCode: error.code, errorMessage: error.description }),
    schema: { type: 'object', required: ['errorCode', 'errorMessage'], properties: { errorCode: string, errorMessage: string } },
  },
  idv1: {
    name: 'idv1',
    render: (error) => ({ error: error.code, errorDescription: error.description }),
    schema: { type: 'object', required: ['error', 'errorDescription'], properties: { error: string, errorDescription: string } },
  },
  cdr: {
    name: 'cdr',
    render: (error) => ({ errors: [{ ...cdrError(error), detail: error.description }] }),
    schema: {
      type: 'object',
      required: ['errors'],
      properties: {
        errors: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'title', 'detail'],
            properties: { code: { type: 'string', examples: ['urn:au-cds:error:cds-all:Authorisation/InvalidArrangement'] }, title: string, detail: string },
          },
        },
      },
    },
  },
} as const satisfies Record<string, ErrorShape>;
