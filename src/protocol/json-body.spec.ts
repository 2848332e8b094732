import fc from 'fast-check';
import { jsonShapeProblem } from './json-body';

/** Depth and widest container of a parsed JSON value, computed the obvious way. */
function shape(value: unknown): { depth: number; widest: number } {
  if (typeof value !== 'object' || value === null) return { depth: 0, widest: 0 };
  const members = Array.isArray(value) ? value : Object.values(value);
  const inner = members.map(shape);
  return {
    depth: 1 + Math.max(0, ...inner.map((s) => s.depth)),
    widest: Math.max(members.length, ...inner.map((s) => s.widest)),
  };
}

// Strings full of the characters the scan counts, and escapes, to show they do not count.
const tricky = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', ',', '"', '\\', 'a', ' ', '\u2028'), maxLength: 12 });
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(tricky, tie('value'), { maxKeys: 5 }),
})).value;

describe('jsonShapeProblem', () => {
  it('agrees with the parsed value on depth and width, whatever the strings hold', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), (value, maxDepth, maxMembers) => {
        const text = JSON.stringify(value);
        const { depth, widest } = shape(value);
        const problem = jsonShapeProblem(text, maxDepth, maxMembers);
        expect(problem === undefined).toBe(depth <= maxDepth && widest <= maxMembers);
      }),
      { numRuns: 2000 },
    );
  });

  it('also with whitespace between tokens', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = JSON.stringify(value, null, 2);
        const { depth } = shape(value);
        expect(jsonShapeProblem(text, depth)).toBeUndefined();
        if (depth > 0) expect(jsonShapeProblem(text, depth - 1)).toBe(`JSON nesting deeper than ${depth - 1} levels`);
      }),
    );
  });

  it('names the bound that was crossed', () => {
    expect(jsonShapeProblem('[[[1]]]', 2)).toBe('JSON nesting deeper than 2 levels');
    expect(jsonShapeProblem('[1,2,3]', 8, 2)).toBe('a JSON array or object with more than 2 members');
    expect(jsonShapeProblem('{"a":"[[[[[[[[[[[[","b":"\\"[[[["}', 1)).toBeUndefined();
  });

  it('leaves syntax to the parser: broken text of a legal shape passes', () => {
    expect(jsonShapeProblem('{"a":', 1)).toBeUndefined();
    expect(jsonShapeProblem(']]]', 1)).toBeUndefined();
  });
});
