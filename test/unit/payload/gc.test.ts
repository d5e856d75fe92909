// The garbage pacer of the streamed big-message path: a full collection each `everyBytes` handled, and the
// run-time --expose-gc really gives a collector (a regression would leave big deliveries at ~2x RSS).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { collectGarbage, GarbagePacer } from '../../../src/gc.ts';

describe('GarbagePacer', () => {
  it('collects once per everyBytes handled, and on flush', () => {
    let collections = 0;
    const pacer = new GarbagePacer(100, () => collections++);
    for (let i = 0; i < 10; i++) pacer.add(30); // 300 bytes
    expect(collections).toBe(2);
    pacer.flush();
    expect(collections).toBe(3);
    pacer.add(99);
    expect(collections).toBe(3);
  });

  it('has a real collector: an unreachable object is gone after one collection', async () => {
    let target: object | undefined = {};
    const ref = new WeakRef(target);
    target = undefined;
    // WeakRefs are kept alive for the current job; collect in a later one.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });

  it("takes node's own gc under --expose-gc (the bin's flags), with no context made for it", () => {
    const same = execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        '-e',
        "import('./src/gc.ts').then((m) => console.log(m.collectGarbage === gc))",
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(same.trim()).toBe('true');
  });
});
