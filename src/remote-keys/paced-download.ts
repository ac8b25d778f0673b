import { Logger } from '@nestjs/common';

/** No download sooner than this after the last one: providers rotate their keys every few months. */
export const MIN_INTERVAL_MS = 30_000;
/** After failed downloads the wait doubles from MIN_INTERVAL_MS up to this. */
export const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * When a third party's published keys (Stytch's JWKS, GitHub's secret-scanning keys) may be
 * downloaded: at most one download at a time, none within 30 s of the last one, and after a
 * failure none for 30 s, doubling up to 5 min. A request naming a key we do not hold asks for a
 * download; however many such requests arrive (invented key ids included), the provider is called
 * at most once per period, and never hammered while it is down.
 */
export class PacedDownload {
  private nextDownloadAt = 0;
  private failures = 0;
  private downloading: Promise<void> | undefined;

  /** `download` throws when it failed; `what` names the document in the warning. */
  constructor(
    private readonly what: string,
    private readonly download: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** Downloads now if allowed (or joins the download under way), and waits for it; never throws. */
  async whenAllowed(): Promise<void> {
    if (!this.downloading && Date.now() >= this.nextDownloadAt) {
      this.downloading = this.run().finally(() => (this.downloading = undefined));
    }
    if (this.downloading) await this.downloading;
  }

  /** True when the last download failed (the document in hand may be old or missing). */
  get failing(): boolean {
    return this.failures > 0;
  }

  private async run(): Promise<void> {
    try {
      await this.download();
    } catch (error) {
      this.failures += 1;
      const wait = Math.min(MIN_INTERVAL_MS * 2 ** (this.failures - 1), MAX_BACKOFF_MS);
      this.nextDownloadAt = Date.now() + wait;
      this.logger.warn(`${this.what} is unavailable (${failureCode(error)}); next download in ${wait / 1000} s`);
      return;
    }
    this.failures = 0;
    this.nextDownloadAt = Date.now() + MIN_INTERVAL_MS;
  }
}

/** The most specific code a failure carries: the jose or socket cause, else its own. */
export function failureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}
