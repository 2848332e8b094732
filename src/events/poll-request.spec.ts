import fc from 'fast-check';
import { ProtocolError } from '../protocol/protocol-error';
import { JsonText } from '../protocol/http-hooks';
import { DEFAULT_MAX_EVENTS, MAX_ACKNOWLEDGED, MAX_EVENTS, pollRequest, readPoll } from './poll-request';

describe('pollRequest (RFC 8936 §2.4)', () => {
  it('parses the text only now: malformed or too deep JSON is a 400', () => {
    expect(pollRequest(new JsonText('{"maxEvents":5}')).maxEvents).toBe(5);
    expect(() => pollRequest(new JsonText('{"ack":'))).toThrow(ProtocolError);
    expect(() => pollRequest(new JsonText('['.repeat(50) + ']'.repeat(50)))).toThrow(ProtocolError);
  });

  it('an absent body is every default', () => {
    expect(pollRequest(undefined)).toEqual({ maxEvents: DEFAULT_MAX_EVENTS, returnImmediately: false, ack: [], setErrs: [] });
    expect(readPoll({})).toEqual({ maxEvents: DEFAULT_MAX_EVENTS, returnImmediately: false, ack: [], setErrs: [] });
  });

  it('maxEvents beyond 1000 is answered with 1000; 0 stays 0', () => {
    expect(readPoll({ maxEvents: 5000 }).maxEvents).toBe(MAX_EVENTS);
    expect(readPoll({ maxEvents: 0 }).maxEvents).toBe(0);
  });

  it('keeps the acknowledged and reported jtis that can be ours (UUIDs, lower-cased), drops the rest', () => {
    const jti = 'A1B2C3D4-0000-4000-8000-000000000001';
    expect(readPoll({ ack: [jti, 'not-ours'], setErrs: { [jti]: { err: 'invalid_key', description: 'x' }, other: { err: 'x' } } })).toMatchObject({
      ack: [jti.toLowerCase()],
      setErrs: [{ jti: jti.toLowerCase(), err: 'invalid_key' }],
    });
  });

  it(`refuses more than ${MAX_ACKNOWLEDGED} acknowledgements in one poll`, () => {
    expect(() => readPoll({ ack: Array.from({ length: MAX_ACKNOWLEDGED + 1 }, (_, i) => String(i)) })).toThrow(ProtocolError);
  });

  it('property: any JSON value is either read, within bounds, or refused with a 400 — never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record(
            { maxEvents: fc.oneof(fc.integer(), fc.double(), fc.string()), returnImmediately: fc.jsonValue(), ack: fc.jsonValue(), setErrs: fc.jsonValue() },
            { requiredKeys: [] },
          ),
        ),
        (body) => {
          let read;
          try {
            read = readPoll(body);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            expect((error as ProtocolError).status).toBe(400);
            return;
          }
          expect(Number.isInteger(read.maxEvents) && read.maxEvents >= 0 && read.maxEvents <= MAX_EVENTS).toBe(true);
          expect(typeof read.returnImmediately).toBe('boolean');
          for (const jti of [...read.ack, ...read.setErrs.map((e) => e.jti)]) expect(jti).toMatch(/^[0-9a-f-]{36}$/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
