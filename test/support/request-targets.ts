import { rawHttp } from './gateway';

const encode = (c: string, upper = false) => {
  const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
};

/**
 * Spellings of a route's path that the router matches as that route: a letter of its first
 * segment percent-encoded (each in turn, in lower- and upper-case hex), all of them, and the
 * absolute form (RFC 9112 §3.2.2) with various authorities.
 */
export function matchingSpellings(path: string): string[] {
  const [, first, rest] = /^\/([^/]+)(.*)$/.exec(path)!;
  const letters = [...first].map((c, i) => (/[a-z]/i.test(c) ? i : -1)).filter((i) => i >= 0);
  const one = (i: number, upper: boolean) => `/${first.slice(0, i)}${encode(first[i], upper)}${first.slice(i + 1)}${rest}`;
  return [
    ...letters.map((i) => one(i, false)),
    one(letters.at(-1)!, true),
    `/${[...first].map((c) => encode(c)).join('')}${rest}`,
    `http://x${path}`,
    `HTTP://gateway.example:9464${path}`,
    `https://evil.example${path}`,
    `http://x/${[...first].map((c) => encode(c)).join('')}${rest}`,
  ];
}

/** Spellings that name another path (double-encoded, other case, extra slashes): no route. */
export function nonMatchingSpellings(path: string): string[] {
  const [, first, rest] = /^\/([^/]+)(.*)$/.exec(path)!;
  return [
    `/%25${first.charCodeAt(0).toString(16)}${first.slice(1)}${rest}`,
    `/${first.toUpperCase()}${rest}`,
    `/${first[0].toUpperCase()}${first.slice(1)}${rest}`,
    `/${encode(first[0].toUpperCase())}${first.slice(1)}${rest}`,
    `//${first}${rest}`,
    `${path}/`,
    `/./${first}${rest}`,
  ];
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One request with exactly this request target, on a connection of its own. */
export async function sendTarget(
  baseUrl: string,
  method: string,
  target: string,
  { body, headers = {} }: { body?: string; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  const lines = Object.entries({ host: 'x', connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}\r\n`);
  const answer = await rawHttp(baseUrl, `${method} ${target} HTTP/1.1\r\n${lines.join('')}\r\n${body ?? ''}`, { halfClose: false });
  return parseAnswer(answer);
}

export function parseAnswer(answer: string): RawAnswer {
  const split = answer.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = answer.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = answer.slice(split + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status, headers, body };
}

function dechunk(body: string): string {
  let out = '';
  for (let at = 0; ;) {
    const end = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, end), 16);
    if (!size) return out;
    out += body.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
}
