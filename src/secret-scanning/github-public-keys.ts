import { KeyObject, createPublicKey } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PacedDownload } from '../remote-keys/paced-download';

/** A download older than this is refreshed when a report arrives (GitHub may withdraw a key). */
const REFRESH_AFTER_MS = 60 * 60_000;
/** Keys of a download older than this are not trusted any more: reports wait for a new one (503). */
const USABLE_FOR_MS = 24 * 60 * 60_000;
const DOWNLOAD_TIMEOUT_MS = 5_000;
/** GitHub's document is about 1 KB; anything far larger is not it, and is not read to the end. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
const MAX_IDENTIFIER_LENGTH = 256;

/** What a report's key identifier resolves to. */
export type KeyLookup = { key: KeyObject } | { problem: 'unknown' | 'unavailable' };

/**
 * GitHub's secret-scanning public keys (`GITHUB_SECRET_SCANNING_KEYS_URL`), held in memory by
 * identifier. Downloaded when a report names an identifier we do not hold, or when the keys are an
 * hour old — at the pace of PacedDownload, so reports with invented identifiers cannot make us
 * call GitHub more than once per period. Keys held keep verifying while GitHub's endpoint is down,
 * for a day after the last good download; with none usable, a report is refused as retryable
 * (503), never accepted unverified.
 */
@Injectable()
export class GithubPublicKeys {
  private keys = new Map<string, KeyObject>();
  private downloadedAt = -Infinity;
  private readonly downloads: PacedDownload;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.downloads = new PacedDownload("GitHub's secret-scanning key document", () => this.download(), new Logger(GithubPublicKeys.name));
  }

  async lookup(identifier: string): Promise<KeyLookup> {
    if (!this.keys.has(identifier) || Date.now() - this.downloadedAt > REFRESH_AFTER_MS) await this.downloads.whenAllowed();
    const usable = Date.now() - this.downloadedAt <= USABLE_FOR_MS;
    const key = usable ? this.keys.get(identifier) : undefined;
    if (key) return { key };
    // While the document cannot be had, an unknown identifier may be a key GitHub just added: retryable.
    return { problem: usable && !this.downloads.failing ? 'unknown' : 'unavailable' };
  }

  private async download(): Promise<void> {
    const response = await fetch(this.config.githubSecretScanningKeysUrl, {
      headers: { accept: 'application/json', 'user-agent': 'lucitra-validate-api' },
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
      redirect: 'error',
    });
    if (!response.ok) throw Object.assign(new Error('unexpected status'), { code: `HTTP_${response.status}` });
    this.keys = parseKeyDocument(await boundedText(response));
    this.downloadedAt = Date.now();
  }
}

/** The body, read no further than MAX_DOCUMENT_BYTES. */
async function boundedText(response: Response): Promise<string> {
  const tooLarge = () => Object.assign(new Error('document too large'), { code: 'TOO_LARGE' });
  if (Number(response.headers.get('content-length')) > MAX_DOCUMENT_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_DOCUMENT_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `{public_keys: [{key_identifier, key, is_current}]}` → P-256 public keys by identifier. Entries
 * that are not P-256 PEM keys are skipped; a document without one usable key is a failed download
 * (the keys held before stay in force until it succeeds).
 */
export function parseKeyDocument(text: string): Map<string, KeyObject> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw Object.assign(new Error('not JSON'), { code: 'MALFORMED' });
  }
  const entries = (document as { public_keys?: unknown } | null)?.public_keys;
  const keys = new Map<string, KeyObject>();
  for (const entry of Array.isArray(entries) ? entries : []) {
    const { key_identifier: identifier, key: pem } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof identifier !== 'string' || identifier.length === 0 || identifier.length > MAX_IDENTIFIER_LENGTH) continue;
    if (typeof pem !== 'string') continue;
    const key = p256PublicKey(pem);
    if (key) keys.set(identifier, key);
  }
  if (keys.size === 0) throw Object.assign(new Error('no usable key'), { code: 'NO_KEYS' });
  return keys;
}

function p256PublicKey(pem: string): KeyObject | null {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : null;
  } catch {
    return null;
  }
}
