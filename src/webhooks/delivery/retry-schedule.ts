const MAX_DELAY_MS = 3_600_000;

/**
 * The wait after failed attempt `attempt` (1-based): base × 2^(attempt−1), at most an hour, of
 * which a random half is dropped ("equal jitter") so that a receiver coming back is not met by
 * every delivery at once. Never under half the base.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full / 2 + (random() * full) / 2);
}
