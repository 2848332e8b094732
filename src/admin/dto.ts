import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { AUTH_METHODS, type AuthMethod } from '../client-auth/credentials';
import { MAX_TOKEN_LENGTH } from '../revocation/revocation-params';
import { TOKEN_TYPES, type TokenType } from '../revocation/token-types';

/** CONTRACT §8: tenant names. */
export const TENANT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** RFC 6749 Appendix A.1: client_id is VSCHAR (printable ASCII). */
const VSCHAR = /^[\x20-\x7e]{1,255}$/;
const IDENTIFIER = { message: '$property must be 1-255 printable ASCII characters' };
/** ISO 8601 with an explicit offset: a timestamp without one is ambiguous. */
const WITH_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

export class TenantScoped {
  @IsOptional() @IsString() @Matches(TENANT_NAME, { message: 'tenant must match [A-Za-z0-9._-]{1,64}' })
  tenant: string = 'default';
}

export class PutTenantBody {
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  issuer?: string;
}

export class PutClientBody extends TenantScoped {
  @IsOptional() @IsString() @Length(1, 255)
  name?: string;

  @IsIn(AUTH_METHODS)
  auth_method!: AuthMethod;

  @IsOptional() @IsString() @Length(1, 512)
  secret?: string;

  @IsOptional() @IsObject()
  jwks?: { keys: unknown[] };

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['https', 'http'] })
  jwks_uri?: string;

  @IsOptional() @IsString() @Length(1, 1024)
  tls_client_auth_subject_dn?: string;

  @IsOptional() @IsString() @Length(1, 255)
  tls_client_auth_san_dns?: string;

  @IsOptional() @IsString() @Length(1, 2048)
  tls_client_auth_san_uri?: string;

  @IsOptional() @IsString() @Length(1, 64)
  tls_client_auth_san_ip?: string;

  @IsOptional() @IsString() @Length(1, 320)
  tls_client_auth_san_email?: string;
}

export class TokenEntry {
  @IsString() @Length(1, MAX_TOKEN_LENGTH)
  token!: string;

  @IsIn(TOKEN_TYPES)
  token_type!: TokenType;

  @IsString() @Matches(VSCHAR, IDENTIFIER)
  client_id!: string;

  @IsString() @Length(1, 255)
  grant_id!: string;

  @IsOptional() @IsString() @Length(1, 255)
  consent_id?: string;

  @IsOptional() @IsString() @Length(1, 255)
  subject?: string;

  @IsOptional() @IsString() @Length(1, MAX_TOKEN_LENGTH)
  refresh_token?: string;

  @IsISO8601({ strict: true, strictSeparator: true }) @Matches(WITH_OFFSET, { message: 'expires_at must carry a UTC offset' })
  expires_at!: string;
}

export class RegisterTokensBody extends TenantScoped {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10000) @ValidateNested({ each: true }) @Type(() => TokenEntry)
  tokens!: TokenEntry[];
}

export class TokenStatusBody extends TenantScoped {
  @IsString() @Length(1, MAX_TOKEN_LENGTH)
  token!: string;
}

export class BulkRevocationBody extends TenantScoped {
  @IsOptional() @IsString() @Length(1, 255)
  subject?: string;

  @IsOptional() @IsString() @Matches(VSCHAR, IDENTIFIER)
  client_id?: string;

  @IsOptional() @IsString() @Length(1, 255)
  consent_id?: string;
}

export class EventsQuery {
  @IsOptional() @IsUUID('all')
  interaction_id?: string;

  @IsOptional() @IsString() @Matches(VSCHAR, IDENTIFIER)
  client_id?: string;

  @IsOptional() @IsString() @Matches(TENANT_NAME)
  tenant?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit: number = 100;
}

export function checkClientId(clientId: string): boolean {
  return VSCHAR.test(clientId);
}
