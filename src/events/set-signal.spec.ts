import { SetSignal } from './set-signal';

/** Arms and waits at once, as a poll does. */
function waitFor(signal: SetSignal, streamId: string, ms: number): Promise<void> {
  const armed = signal.arm(streamId);
  return armed.wait(ms).finally(() => armed.cancel());
}

describe('SetSignal', () => {
  const elapsed = async (wait: Promise<void>) => {
    const started = Date.now();
    await wait;
    return Date.now() - started;
  };

  it('wakes the waiters of the streams named, and only them', async () => {
    const signal = new SetSignal(true);
    let other = false;
    void waitFor(signal, 'b', 500).then(() => (other = true));
    const woken = waitFor(signal, 'a', 5000);
    setTimeout(() => signal.heard('x,a'), 20);
    expect(await elapsed(woken)).toBeLessThan(1000);
    expect(other).toBe(false);
  });

  it('alone (embedded), this process\u2019s commit wakes everyone and a wait lasts as long as asked', async () => {
    const signal = new SetSignal(true);
    const woken = waitFor(signal, 'a', 5000);
    setTimeout(() => signal.committed(), 20);
    expect(await elapsed(woken)).toBeLessThan(1000);
    expect(await elapsed(waitFor(signal, 'a', 1300))).toBeGreaterThanOrEqual(1250);
  });

  it('on a database server: not hearing, a wait lasts at most the fallback and a commit wakes everyone; hearing, a commit waits for the database', async () => {
    const signal = new SetSignal(false);
    expect(await elapsed(waitFor(signal, 'a', 5000))).toBeLessThan(SetSignal.FALLBACK_CHECK_MS + 200);
    signal.listening(true);
    let woken = false;
    void waitFor(signal, 'a', 300).then(() => (woken = true));
    signal.committed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(woken).toBe(false);
  });

  it('tells its listeners what it heard', () => {
    const signal = new SetSignal(false);
    const heard: unknown[] = [];
    const stop = signal.onWake((streams) => heard.push(streams));
    signal.heard('a,b');
    signal.listening(true);
    stop();
    signal.heard('c');
    expect(heard).toEqual([['a', 'b'], 'all']);
  });
});
