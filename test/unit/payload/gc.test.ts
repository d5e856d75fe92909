// The garbage pacer of the streamed big-message path: a full collection each `everyBytes` handled, and the
// run-time --expose-gc really gives a collector (a regression would leave big deliveries at ~2x RSS), set
// only when the first collection asks for it.
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

  it('sets no V8 flag as it loads (a code cache is taken only under its flags), --expose-gc at the first collection', () => {
    const seen = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/gc.ts').then((m) => {
           const exposed = () => require('node:vm').runInNewContext('typeof gc');
           const before = exposed();
           m.collectGarbage();
           console.log(before, exposed());
         })`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(seen.trim()).toBe('undefined function');
  });
});
