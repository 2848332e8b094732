import type { RegisteredToken } from './token-lookup';
import { TokenStatusCache, type CacheResult } from './token-status-cache';

const IN_AN_HOUR = new Date(Date.now() + 3600_000);
const token = (overrides: Partial<RegisteredToken> = {}): RegisteredToken => ({
  origin: 'registered',
  tokenType: 'access_token',
  clientId: 'tpp',
  grantId: 'g',
  consentId: null,
  subject: null,
  scope: null,
  cnf: null,
  issuedAt: null,
  registeredAt: new Date(),
  expiresAt: IN_AN_HOUR,
  revokedAt: null,
  active: true,
  tenantIssuer: null,
  ...overrides,
});
const hash = (n: number) => Buffer.alloc(32, n);

function cache(trusted = true, maxEntries = 100, ttlMs = 60_000) {
  const results: CacheResult[] = [];
  return { cache: new TokenStatusCache(maxEntries, ttlMs, trusted, (r) => results.push(r)), results };
}

describe('TokenStatusCache', () => {
  it('answers a second lookup from memory, per tenant', async () => {
    const { cache: c, results } = cache();
    const load = jest.fn(async () => token());
    await c.find('t1', hash(1), load);
    await c.find('t1', hash(1), load);
    await c.find('t2', hash(1), load);
    expect(load).toHaveBeenCalledTimes(2);
    expect(results).toEqual(['miss', 'hit', 'miss']);
  });

  it('never keeps an unknown token: one registered a moment later is found', async () => {
    const { cache: c } = cache();
    expect(await c.find('t', hash(1), async () => undefined)).toBeUndefined();
    expect(await c.find('t', hash(1), async () => token())).toMatchObject({ active: true });
  });

  it('forgets the tokens a revocation names, and a whole tenant, and nothing else', async () => {
    const { cache: c } = cache();
    for (const n of [1, 2, 3]) await c.find('t', hash(n), async () => token());
    await c.find('u', hash(1), async () => token());
    c.forgetTokens('t', [hash(1)]);
    const reload = jest.fn(async () => token({ active: false }));
    expect(await c.find('t', hash(1), reload)).toMatchObject({ active: false });
    expect(await c.find('t', hash(2), reload)).toMatchObject({ active: true });
    c.forgetTenant('t');
    expect(await c.find('t', hash(3), reload)).toMatchObject({ active: false });
    expect(await c.find('u', hash(1), reload)).toMatchObject({ active: true });
  });

  it("a tenant's rules forget its JWT access tokens only; forgetting the tenant forgets them too", async () => {
    const { cache: c } = cache();
    await c.find('t', hash(1), async () => token());
    await c.find('t', hash(2), async () => token({ origin: 'jwt', grantId: null }));
    await c.find('u', hash(2), async () => token({ origin: 'jwt', grantId: null }));
    c.forgetJwts('t');
    const reload = jest.fn(async () => token({ origin: 'jwt', active: false }));
    expect(await c.find('t', hash(1), reload)).toMatchObject({ active: true });
    expect(await c.find('t', hash(2), reload)).toMatchObject({ active: false });
    expect(await c.find('u', hash(2), reload)).toMatchObject({ active: true });
    expect(reload).toHaveBeenCalledTimes(1);
    c.forgetTenant('t');
    expect(await c.find('t', hash(2), async () => token({ origin: 'jwt', active: true }))).toMatchObject({ active: true });
    c.forgetTenant('t');
    expect(await c.find('t', hash(2), reload)).toMatchObject({ active: false });
  });

  it('a load that began before a forgetting answers its request but is not kept', async () => {
    const { cache: c } = cache();
    let release!: () => void;
    const slow = c.find('t', hash(1), () => new Promise<RegisteredToken>((resolve) => (release = () => resolve(token()))));
    c.forgetTokens('t', [hash(9)]);
    release();
    expect(await slow).toMatchObject({ active: true });
    const after = jest.fn(async () => token({ active: false }));
    expect(await c.find('t', hash(1), after)).toMatchObject({ active: false });
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('untrusted (the feed is down): every lookup goes to the database and nothing is kept; trusting again starts empty', async () => {
    const { cache: c, results } = cache(false);
    const load = jest.fn(async () => token());
    await c.find('t', hash(1), load);
    await c.find('t', hash(1), load);
    expect(load).toHaveBeenCalledTimes(2);
    c.trusted = true;
    await c.find('t', hash(1), load);
    await c.find('t', hash(1), load);
    c.trusted = false;
    await c.find('t', hash(1), load);
    expect(results).toEqual(['bypass', 'bypass', 'miss', 'hit', 'bypass']);
    c.trusted = true;
    expect(c.size).toBe(0);
  });

  it('keeps an entry no longer than its TTL, and never past the token’s expiry', async () => {
    jest.useFakeTimers({ now: Date.now() });
    try {
      const { cache: c } = cache(true, 100, 1000);
      const load = jest.fn(async () => token({ expiresAt: new Date(Date.now() + 500) }));
      await c.find('t', hash(1), load);
      jest.advanceTimersByTime(400);
      await c.find('t', hash(1), load);
      expect(load).toHaveBeenCalledTimes(1);
      jest.advanceTimersByTime(200);
      await c.find('t', hash(1), load);
      expect(load).toHaveBeenCalledTimes(2);
      const long = jest.fn(async () => token());
      await c.find('t', hash(2), long);
      jest.advanceTimersByTime(1001);
      await c.find('t', hash(2), long);
      expect(long).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('is bounded: past maxEntries the oldest goes; 0 entries is off', async () => {
    const { cache: c } = cache(true, 3);
    for (let n = 0; n < 10; n++) await c.find('t', hash(n), async () => token());
    expect(c.size).toBe(3);
    const off = new TokenStatusCache(0, 60_000, true);
    expect(off.trusted).toBe(false);
    off.trusted = true;
    expect(off.trusted).toBe(false);
  });
});
