/**
 * Credentials pasted into a URL (`?api_key=luci_…`, a session JWT) must not reach the log with it.
 * The URL is cut at its delimiters and each piece is judged on its own, percent-decoded: work in
 * one pass over the text whatever it holds. (A regular expression that backtracked from every
 * `eyJ` spent ~130 ms of CPU on one crafted 16 KB URL.)
 */

/** What is logged of a URL at most; the rest is counted, not shown (nor looked at). */
export const MAX_LOGGED_URL_LENGTH = 2048;
/** Layers of percent-encoding undone; a piece still encoded after that is hidden whole. */
const MAX_DECODE_ROUNDS = 4;
/** Pieces this long that contain `luci_` anywhere are hidden (a key is 43 characters). */
const EMBEDDED_KEY_MIN_LENGTH = 20;

/** Nothing to redact without one of these (the usual URL): one cheap test per request. */
const SUSPECT = /luci|eyj|%/i;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const KEY_PREFIX = /^luci_/i;
const KEY_ANYWHERE = /luci_/i;
/** Shorter pieces are neither `luci_…` nor `eyJ..`. */
const MIN_PIECE_LENGTH = 5;

/** Path, query and parameter delimiters, and the two spellings of a space; they end a piece. */
const DELIMITER = new Uint8Array(128);
for (const char of '/?&=;,#+ ') DELIMITER[char.charCodeAt(0)] = 1;

/** The text with every piece that is, or hides, an API key or a session JWT replaced. */
export function redactCredentials(text: string): string {
  if (!SUSPECT.test(text)) return text;
  let out: string | undefined;
  let copied = 0; // text before this index is in `out`
  let start = 0;
  for (let i = 0; i <= text.length; i += 1) {
    if (i < text.length && !isDelimiter(text.charCodeAt(i))) continue;
    if (i - start >= MIN_PIECE_LENGTH) {
      const piece = text.slice(start, i);
      const shown = redactPiece(piece);
      if (shown !== piece) {
        out = (out ?? '') + text.slice(copied, start) + shown;
        copied = i;
      }
    }
    start = i + 1;
  }
  return out === undefined ? text : out + text.slice(copied);
}

/**
 * A URL as the log shows it: at most MAX_LOGGED_URL_LENGTH characters, credentials redacted. A
 * longer one is cut after its last delimiter within the limit — no piece is shown in part, and
 * the work per request is bounded whatever the URL's length.
 */
export function loggableUrl(url: string): string {
  if (url.length <= MAX_LOGGED_URL_LENGTH) return redactCredentials(url);
  let end = MAX_LOGGED_URL_LENGTH;
  while (end > 0 && !isDelimiter(url.charCodeAt(end - 1))) end -= 1;
  return `${redactCredentials(url.slice(0, end))}…[truncated ${url.length - end} chars]`;
}

/** True when the text, taken as one piece of a URL, would be redacted. */
export function isCredential(piece: string): boolean {
  return redactPiece(piece) !== piece;
}

function redactPiece(piece: string): string {
  if (piece.length < MIN_PIECE_LENGTH) return piece;
  const plain = percentDecoded(piece);
  if (plain === null) return '[REDACTED]';
  if (KEY_PREFIX.test(plain)) return 'luci_[REDACTED]';
  if (containsJwt(plain)) return 'eyJ[REDACTED]';
  if (plain.length >= EMBEDDED_KEY_MIN_LENGTH && KEY_ANYWHERE.test(plain)) return '[REDACTED]';
  return piece;
}

/**
 * Undoes percent-encoding until nothing changes, without ever throwing (a malformed escape stays
 * as it is); null when still encoded after MAX_DECODE_ROUNDS — no client encodes a URL that often.
 * Bytes become Latin-1 characters: only ASCII is looked for.
 */
function percentDecoded(piece: string): string | null {
  let text = piece;
  for (let round = 0; text.includes('%'); round += 1) {
    const next = text.replace(ESCAPE, decodeEscape);
    if (next === text) return text;
    if (round === MAX_DECODE_ROUNDS) return null;
    text = next;
  }
  return text;
}

function decodeEscape(_escape: string, hex: string): string {
  return String.fromCharCode(parseInt(hex, 16));
}

/** A JWT starts a base64url run with `eyJ` (`{"`) and has two dots after it. */
function containsJwt(text: string): boolean {
  let at = text.indexOf('eyJ');
  while (at > 0 && isBase64Url(text.charCodeAt(at - 1))) at = text.indexOf('eyJ', at + 1);
  if (at === -1) return false;
  const dot = text.indexOf('.', at + 3);
  return dot !== -1 && text.indexOf('.', dot + 1) !== -1;
}

function isDelimiter(code: number): boolean {
  return code < 128 && DELIMITER[code] === 1;
}

function isBase64Url(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x2d || code === 0x5f
  );
}
