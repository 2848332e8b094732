import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { resolveInteractionId } from './interaction-id';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: length, maxLength: length });

/** A UUID-shaped string with the given version and variant digits. */
const uuidWith = (version: fc.Arbitrary<string>, variant: fc.Arbitrary<string>) =>
  fc.tuple(hex(8), hex(4), version, hex(3), variant, hex(3), hex(12)).map(([a, b, v, c, r, d, e]) => `${a}-${b}-${v}${c}-${r}${d}-${e}`);

function expectRejected(header: string | string[]): void {
  const result = resolveInteractionId(header);
  expect(result.rejected).toBe(true);
  expect(result.id).toMatch(V4);
  expect(result.id).not.toBe(header);
}

describe('resolveInteractionId', () => {
  it('echoes any crypto.randomUUID, in lower or upper case', () => {
    fc.assert(
      fc.property(
        fc.constant(null).map(() => randomUUID()),
        fc.boolean(),
        (uuid, upper) => {
          const header = upper ? uuid.toUpperCase() : uuid;
          expect(resolveInteractionId(header)).toEqual({ id: header, rejected: false });
        },
      ),
    );
  });

  it('accepts versions 1 to 8 with the RFC variant', () => {
    fc.assert(
      fc.property(uuidWith(fc.constantFrom(...'12345678'), fc.constantFrom(...'89abAB')), (uuid) => {
        expect(resolveInteractionId(uuid)).toEqual({ id: uuid, rejected: false });
      }),
    );
  });

  it('rejects versions 0, 9 and above', () => {
    fc.assert(fc.property(uuidWith(fc.constantFrom(...'09abcdefABCDEF'), fc.constantFrom(...'89ab')), expectRejected));
  });

  it('rejects a non-RFC variant', () => {
    fc.assert(fc.property(uuidWith(fc.constantFrom(...'12345678'), fc.constantFrom(...'01234567cdefCDEF')), expectRejected));
  });

  it.each([
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['the max UUID', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
    ['a UUID without dashes', randomUUID().replace(/-/g, '')],
    ['a UUID in braces', `{${randomUUID()}}`],
    ['a UUID with a trailing newline', `${randomUUID()}\n`],
    ['a UUID with surrounding spaces', ` ${randomUUID()} `],
    ['a header injection attempt', `${randomUUID()}\r\nx-evil: 1`],
  ])('rejects %s', (_name, header) => expectRejected(header));

  it('rejects arrays, even of valid UUIDs', () => {
    expectRejected([randomUUID()]);
    expectRejected([randomUUID(), randomUUID()]);
    expectRejected([]);
  });

  it('rejects arbitrary strings that are not UUIDs, never echoing them', () => {
    const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (header) => {
        fc.pre(!uuidShape.test(header));
        expectRejected(header);
      }),
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
  ])('generates a fresh v4 id without rejecting when the header is %s', (_name, header) => {
    const first = resolveInteractionId(header);
    const second = resolveInteractionId(header);
    expect(first.rejected).toBe(false);
    expect(first.id).toMatch(V4);
    expect(second.id).not.toBe(first.id);
  });
});
