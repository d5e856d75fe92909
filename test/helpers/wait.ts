// Polls a condition until it holds or a deadline passes: the one wait of the tests, benches and faults.

export interface WaitOptions {
  /** Time between two looks. Default 100 ms. */
  intervalMs?: number;
  /** More to say in the timeout error (the processes' last log lines, say). */
  context?: () => string;
  /** A predicate that throws means "not yet" (a server still starting), not a failure. */
  retryErrors?: boolean;
}

export async function waitUntil(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const look = options.retryErrors
    ? () =>
        Promise.resolve()
          .then(predicate)
          .catch(() => false)
    : predicate;
  while (!(await look())) {
    if (Date.now() > deadline) {
      const context = options.context?.();
      throw new Error(`timed out waiting for: ${what}${context ? `\n${context}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
