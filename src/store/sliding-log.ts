/** What one request against a sliding log decided. */
export interface SlidingDecision {
  accepted: boolean;
  remaining: number;
  /** Unix ms when `remaining` next grows. */
  resetAtMs: number;
  /** Ms until a request would be accepted; 0 when this one was. */
  retryAfterMs: number;
}

/**
 * An exact sliding window: the times of the accepted requests still inside the window, oldest
 * first. A request at `now` is accepted when fewer than `max` entries are younger than the
 * window, so no interval of `windowMs` ever holds more than `max` accepted requests.
 * The same arithmetic as the Redis script; memory is bounded by `max`.
 */
export class SlidingLog {
  private entries: number[] = [];
  private windowMs = 0;
  private lastMs = 0;

  admit(now: number, max: number, windowMs: number): SlidingDecision {
    this.windowMs = windowMs;
    this.lastMs = now;
    const firstLive = this.entries.findIndex((at) => at > now - windowMs);
    this.entries = firstLive === -1 ? [] : firstLive === 0 ? this.entries : this.entries.slice(firstLive);

    const accepted = this.entries.length < max;
    if (accepted) this.entries.push(now);
    const count = this.entries.length;
    return {
      accepted,
      remaining: Math.max(max - count, 0),
      resetAtMs: this.entries[0] + windowMs,
      // the entry whose leaving brings the count under max (the oldest, unless max was lowered)
      retryAfterMs: accepted ? 0 : this.entries[count - max] + windowMs - now,
    };
  }

  isIdle(now: number): boolean {
    return this.lastMs + this.windowMs <= now && this.entries.every((at) => at <= now - this.windowMs);
  }
}
