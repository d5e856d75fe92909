// Writes V8's code cache of the bundles (src/boot/code-cache.ts), run by scripts/build.mjs with the bin's
// node flags: their top level and the service's modules loaded, the parse thread started.
const { join } = require('node:path');
const { Worker } = require('node:worker_threads');

const dist = join(__dirname, '..', 'dist');
const { loadBundle } = require(join(dist, 'boot.cjs'));

async function warm() {
  const main = loadBundle(join(dist, 'pophook.cjs'));
  await main.exports.loadService();
  main.saveCodeCache();
  const thread = new Worker(join(dist, 'parse-thread-main.cjs'), {
    workerData: { limits: {}, payloadOptions: {}, writeCodeCache: true },
  });
  await new Promise((resolve, reject) => {
    thread.once('exit', resolve);
    thread.once('error', reject);
  });
}

warm().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
