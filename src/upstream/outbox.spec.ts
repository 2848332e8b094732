import fc from 'fast-check';
import { retryDelay } from './outbox';

describe('retryDelay', () => {
  it('retries the first failure within 5 s (docs/api.md §6)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
        const delay = retryDelay(1, () => r);
        expect(delay).toBeGreaterThanOrEqual(500);
        expect(delay).toBeLessThanOrEqual(1000);
      }),
    );
  });

  it('never waits longer than 5 minutes, whatever the attempt count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        expect(retryDelay(attempts, () => r)).toBeLessThanOrEqual(300_000);
      }),
    );
  });

  it('doubles the window with every failure until the cap', () => {
    const top = (attempts: number) => retryDelay(attempts, () => 0.999999);
    expect([1, 2, 3, 4].map(top)).toEqual([1000, 2000, 4000, 8000]);
    expect(top(9)).toBe(256_000);
    expect(top(10)).toBe(300_000);
    expect(retryDelay(10, () => 0)).toBe(150_000);
  });
});
