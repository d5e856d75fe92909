// Preloaded (`node --require`) into the pophook process by `npm run bench -- --alloc-profile`: V8's sampling
// heap profiler over the main thread's steady state, in two windows one after the other. The first counts
// every allocation, the young ones a scavenge collects included (what makes the scavenges run); the second
// only what outlives a scavenge (what each scavenge copies and what gets promoted to the old generation,
// where it costs mark-compacts). Each window's bytes by allocating function, and by the last frames of its
// stack, go to ALLOC_PROFILE_OUT/{all,survivors}.txt. The windows start at SIGUSR2, which the bench sends
// once the first third of the messages was accepted, where its CPU figures start too.
'use strict';
const { writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');
const { join } = require('node:path');

const out = process.env.ALLOC_PROFILE_OUT;
const windowMs = Number(process.env.ALLOC_PROFILE_WINDOW_MS ?? 1500);
// One sample per 4 KiB allocated on average: a few thousand samples a window, about 1% of CPU.
const SAMPLING_INTERVAL = 4096;
const TOP = 40;

if (out) {
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  const sample = async (name, collectedYoungToo) => {
    await post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL,
      includeObjectsCollectedByMinorGC: collectedYoungToo,
      includeObjectsCollectedByMajorGC: true,
    });
    await new Promise((resolve) => setTimeout(resolve, windowMs).unref());
    const { profile } = await post('HeapProfiler.stopSampling');
    writeFileSync(join(out, `${name}.txt`), summarize(profile));
  };
  process.once('SIGUSR2', () => {
    sample('all', true)
      .then(() => sample('survivors', false))
      .catch((error) => writeFileSync(join(out, 'error.txt'), String(error)));
  });
}

/** Bytes by allocating function, then by its last four frames, largest first, as `percent KiB name`. */
function summarize(profile) {
  const bySelf = new Map();
  const byPath = new Map();
  let total = 0;
  const frameName = ({ functionName, url, lineNumber, columnNumber }) =>
    `${functionName || '(anonymous)'} ${url.replace(/.*\//, '')}:${lineNumber + 1}:${columnNumber + 1}`;
  const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node, stack) => {
    const name = frameName(node.callFrame);
    const path = [...stack, name].slice(-4);
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(bySelf, name, node.selfSize);
      add(byPath, path.join(' < '), node.selfSize);
    }
    for (const child of node.children) walk(child, path);
  };
  walk(profile.head, []);
  const top = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([key, bytes]) => `${((100 * bytes) / total).toFixed(1)}% ${(bytes / 1024).toFixed(0)} KiB ${key}`)
      .join('\n');
  return `total ${total} bytes in ${windowMs} ms\n\n== by function\n${top(bySelf)}\n\n== by stack (innermost last)\n${top(byPath)}\n`;
}
