// Stops pophook when npm started it (npx, npm exec, npm run) and is gone. npm runs a bin through `sh -c`
// and forwards a SIGTERM to that shell only; the shell dies without passing it on, and the node process
// would keep polling as an orphan. Its parent changing is the sign: then it sends itself the SIGTERM the
// shell swallowed, so the usual graceful stop runs.

const LOOK_EVERY_MS = 500;

/** Starts watching when `env` says npm started this process; returns the function that stops watching. */
export function stopWhenOrphaned(env: NodeJS.ProcessEnv): () => void {
  if (env.npm_lifecycle_script === undefined) return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, LOOK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
