import { ClientCache } from './client-cache';

describe('ClientCache', () => {
  const loader = (value: string | undefined) => {
    const load = jest.fn(async () => value);
    return load;
  };

  it('loads once per TTL, unknown clients included', async () => {
    const cache = new ClientCache<string>(60_000);
    const load = loader('row');
    expect(await cache.get('t', 'c', load)).toBe('row');
    expect(await cache.get('t', 'c', load)).toBe('row');
    const missing = loader(undefined);
    expect(await cache.get('t', 'nobody', missing)).toBeUndefined();
    expect(await cache.get('t', 'nobody', missing)).toBeUndefined();
    expect([load.mock.calls.length, missing.mock.calls.length]).toEqual([1, 1]);
  });

  it('keeps tenants apart and forgets an invalidated entry at once', async () => {
    const cache = new ClientCache<string>(60_000);
    await cache.get('a', 'c', loader('in a'));
    expect(await cache.get('b', 'c', loader('in b'))).toBe('in b');
    cache.invalidate('a', 'c');
    expect(await cache.get('a', 'c', loader('changed'))).toBe('changed');
  });

  it('does not keep a row whose load began before an invalidation', async () => {
    const cache = new ClientCache<string>(60_000);
    let finish!: (row: string) => void;
    const inFlight = cache.get('t', 'c', () => new Promise<string>((resolve) => (finish = resolve)));
    cache.invalidate('t', 'c');
    finish('before the change');
    expect(await inFlight).toBe('before the change');
    expect(await cache.get('t', 'c', loader('after the change'))).toBe('after the change');
  });

  it('expires entries after the TTL', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const cache = new ClientCache<string>(1000);
      await cache.get('t', 'c', loader('old'));
      jest.setSystemTime(999);
      expect(await cache.get('t', 'c', loader('new'))).toBe('old');
      jest.setSystemTime(1000);
      expect(await cache.get('t', 'c', loader('new'))).toBe('new');
    } finally {
      jest.useRealTimers();
    }
  });

  it('stays within its bound, dropping the oldest entries', async () => {
    const cache = new ClientCache<string>(60_000, 3);
    for (const id of ['1', '2', '3', '4']) await cache.get('t', id, loader(id));
    const reload = loader('reloaded');
    expect(await cache.get('t', '1', reload)).toBe('reloaded');
    expect(await cache.get('t', '4', loader('x'))).toBe('4');
    expect(reload).toHaveBeenCalledTimes(1);
  });

  it('with a TTL of 0, always asks the database', async () => {
    const cache = new ClientCache<string>(0);
    const load = loader('row');
    await cache.get('t', 'c', load);
    await cache.get('t', 'c', load);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
