import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { AUTH_METHODS, CLIENT_ID, CLIENT_ROLES, type AuthMethod, type ClientRole } from '../client-auth/credentials';
import { MAX_TOKEN_LENGTH } from '../revocation/revocation-params';
import { TOKEN_TYPES, type TokenType } from '../revocation/token-types';
import { TENANT_NAME } from '../tenancy/tenant-name';
import type { Confirmation } from '../tokens/token-lookup';

/**
 * RFC 3339 date-time with an explicit offset (a timestamp without one is ambiguous), and an offset
 * PostgreSQL accepts. Week dates and comma fractions, which ISO 8601 allows, are refused.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/i;

const DateTime = () =>
  applyDecorators(
    IsISO8601({ strict: true, strictSeparator: true }),
    Matches(RFC3339, { message: '$property must be an RFC 3339 date-time with a UTC offset' }),
  );

const SCOPE_TOKEN = '[\\x21\\x23-\\x5B\\x5D-\\x7E]+';
const SCOPE = new RegExp(`^${SCOPE_TOKEN}( ${SCOPE_TOKEN})*$`);
/** A base64url SHA-256 digest, unpadded. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * docs/api.md §9: a confirmation is one member, `x5t#S256` (RFC 8705 §3.1: the client
 * certificate's SHA-256 thumbprint) or `jkt` (RFC 9449 §6.1: the DPoP key's JWK SHA-256
 * thumbprint), base64url without padding. A token is bound one way, not both.
 */
const IsConfirmation = () =>
  ValidateBy({
    name: 'isConfirmation',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        const entries = Object.entries(value);
        return (
          entries.length === 1 &&
          (entries[0][0] === 'x5t#S256' || entries[0][0] === 'jkt') &&
          typeof entries[0][1] === 'string' &&
          THUMBPRINT.test(entries[0][1])
        );
      },
      defaultMessage: () => 'cnf must be {"x5t#S256": <thumbprint>} or {"jkt": <thumbprint>}, a base64url SHA-256 digest',
    },
  });

/**
 * Absent is fine, `null` is not: class-validator's IsOptional lets null through to code that
 * expects either nothing or a valid value.
 */
const Optional = () => ValidateIf((_object: object, value: unknown) => value !== undefined);
/** A string PostgreSQL can store (no NUL) within length bounds. */
const Text = (min: number, max: number) =>
  applyDecorators(IsString(), Length(min, max), Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL' }));
const ClientId = () => Matches(CLIENT_ID, { message: '$property must be 1-255 printable ASCII characters' });
const Tenant = () => Matches(TENANT_NAME, { message: '$property must match [A-Za-z0-9._-]{1,64}' });

export class TenantScoped {
  @Optional()
  @IsString()
  @Tenant()
  tenant: string = 'default';
}

export class PutTenantBody {
  @Optional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  issuer?: string;

  /** docs/api.md §11.3: the authorization server's access-token keys. */
  @Optional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['https', 'http'] })
  @Length(1, 2048)
  access_token_jwks_uri?: string;
}

export class PutClientBody extends TenantScoped {
  @Optional()
  @Text(1, 255)
  name?: string;

  @IsIn(AUTH_METHODS)
  auth_method!: AuthMethod;

  @Optional()
  @Text(1, 512)
  secret?: string;

  @Optional()
  @IsObject()
  jwks?: { keys: unknown[] };

  @Optional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['https', 'http'] })
  jwks_uri?: string;

  @Optional()
  @Text(1, 1024)
  tls_client_auth_subject_dn?: string;

  @Optional()
  @Text(1, 255)
  tls_client_auth_san_dns?: string;

  @Optional()
  @Text(1, 2048)
  tls_client_auth_san_uri?: string;

  @Optional()
  @Text(1, 64)
  tls_client_auth_san_ip?: string;

  @Optional()
  @Text(1, 320)
  tls_client_auth_san_email?: string;

  @Optional()
  @IsIn(CLIENT_ROLES)
  role?: ClientRole;
}

export class TokenEntry {
  @IsString()
  @Length(1, MAX_TOKEN_LENGTH)
  token!: string;

  @IsIn(TOKEN_TYPES)
  token_type!: TokenType;

  @IsString()
  @ClientId()
  client_id!: string;

  @Text(1, 255)
  grant_id!: string;

  @Optional()
  @Text(1, 255)
  consent_id?: string;

  @Optional()
  @Text(1, 255)
  subject?: string;

  @Optional()
  @IsString()
  @Length(1, MAX_TOKEN_LENGTH)
  refresh_token?: string;

  @DateTime()
  expires_at!: string;

  /** RFC 6749 §3.3: scope tokens separated by single spaces. */
  @Optional()
  @IsString()
  @Length(1, 1024)
  @Matches(SCOPE, { message: 'scope must be scope tokens (RFC 6749 §3.3) separated by single spaces' })
  scope?: string;

  @Optional()
  @IsConfirmation()
  cnf?: Confirmation;

  @Optional()
  @DateTime()
  issued_at?: string;
}

/**
 * The envelope only: each entry is an object (ValidateNested alone would pass an entry that is
 * itself an array, validating that array's members, of which `[]` has none). Checked without
 * a deep copy (`validateShallow`); the entries are then validated as TokenEntry a slice at a
 * time (`validateEach`), never in one long turn of the event loop.
 */
export class RegisterTokensBody extends TenantScoped {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10000)
  @IsObject({ each: true })
  tokens!: object[];
}

export class TokenStatusBody extends TenantScoped {
  @IsString()
  @Length(1, MAX_TOKEN_LENGTH)
  token!: string;
}

export class BulkRevocationBody extends TenantScoped {
  @Optional()
  @Text(1, 255)
  subject?: string;

  @Optional()
  @IsString()
  @ClientId()
  client_id?: string;

  @Optional()
  @Text(1, 255)
  consent_id?: string;
}

export class EventsQuery {
  @Optional()
  @IsUUID('all')
  interaction_id?: string;

  @Optional()
  @IsString()
  @ClientId()
  client_id?: string;

  @Optional()
  @IsString()
  @Tenant()
  tenant?: string;

  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}
