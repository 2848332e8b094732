import { isIP } from 'node:net';

/** docs/api.md §4 / FAPI 1.0 Baseline §6.2.2: the request headers a TPP passes on behalf of the PSU. */
export const FAPI_AUTH_DATE = 'x-fapi-auth-date';
export const FAPI_CUSTOMER_IP = 'x-fapi-customer-ip-address';
export const CUSTOMER_USER_AGENT = 'x-customer-user-agent';

/** RFC 7231 IMF-fixdate, as the contract spells it (GMT or UTC). */
const AUTH_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC)$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const USER_AGENT = /^[\x20-\x7e]{0,512}$/;

/**
 * `x-fapi-auth-date`: the contract's pattern and a real calendar date-time (no 31 Feb, no hour 24,
 * seconds 00–59). The weekday is not cross-checked against the date (docs/api.md §4).
 */
export function isFapiAuthDate(value: string): boolean {
  const match = AUTH_DATE.exec(value);
  if (!match) return false;
  const [y, mo, d, h, mi, s] = [match[4], MONTHS.indexOf(match[3]), match[2], match[5], match[6], match[7]].map(Number);
  // setUTCFullYear, not Date.UTC: the latter maps years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, 0);
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s
  );
}

/** An IPv4 or IPv6 address of the PSU; a zone index (`fe80::1%eth0`) names our interfaces, not theirs. */
export function isCustomerIpAddress(value: string): boolean {
  return isIP(value) !== 0 && !value.includes('%');
}

export function isCustomerUserAgent(value: string): boolean {
  return USER_AGENT.test(value);
}

export interface FapiHeaders {
  /** The PSU's address, for the audit trail. */
  readonly customerIp?: string;
}

/** The header that is wrong (repeated headers arrive joined with ", " and fail), or the values. */
export function checkFapiHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): { invalid: string } | FapiHeaders {
  const checks: Array<[string, (value: string) => boolean]> = [
    [FAPI_AUTH_DATE, isFapiAuthDate],
    [FAPI_CUSTOMER_IP, isCustomerIpAddress],
    [CUSTOMER_USER_AGENT, isCustomerUserAgent],
  ];
  for (const [name, valid] of checks) {
    const value = headers[name];
    if (value !== undefined && (typeof value !== 'string' || !valid(value))) return { invalid: name };
  }
  const ip = headers[FAPI_CUSTOMER_IP];
  return { customerIp: typeof ip === 'string' ? ip : undefined };
}
