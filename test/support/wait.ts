/**
 * Polls `probe` until it returns something other than undefined, for what happens in the
 * background (back-channel logout deliveries); fails with `what` after `timeoutMs`.
 */
export async function eventually<T>(
  probe: () => T | undefined,
  what: string,
  { timeoutMs = 2000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
