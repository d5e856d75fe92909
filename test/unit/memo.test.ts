import { describe, expect, it } from 'vitest';
import { memoized } from '../../src/memo.ts';

describe('memoized', () => {
  it('computes each value once, starts over past its bound, and keeps no throw', () => {
    const calls: string[] = [];
    const upper = memoized((key: string) => {
      calls.push(key);
      if (key === 'bad') throw new Error('refused');
      return key.toUpperCase();
    }, 2);
    expect([upper('a'), upper('a'), upper('b'), upper('a')]).toEqual(['A', 'A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
    upper('c'); // a third key: the two kept ones are dropped
    upper('a');
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
    expect(() => upper('bad')).toThrow('refused');
    expect(() => upper('bad')).toThrow('refused');
    expect(calls.filter((k) => k === 'bad')).toHaveLength(2);
  });

  it('keeps undefined as an answer', () => {
    let calls = 0;
    const none = memoized((_key: number) => {
      calls += 1;
      return undefined;
    });
    none(1);
    none(1);
    expect(calls).toBe(1);
  });
});
