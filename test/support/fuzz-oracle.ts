import type { RawExchange, RawResponse } from './fuzz-http';

/**
 * What every answer must look like whatever was asked (CONTRACT §3, §4), written down here from
 * the contract rather than imported from src, so that the tests check the contract, not the code.
 */
export const CONTRACT_ERRORS: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  INVALID_API_KEY: 401,
  API_KEY_REVOKED: 401,
  API_KEY_EXPIRED: 401,
  INVALID_SESSION: 401,
  FORBIDDEN: 403,
  ENTERPRISE_REQUIRED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

const REQUEST_ID = /^req_[0-9a-f]{16,}$/;

/** Things a response body must never show: a stack, a source path, SQL, the ORM, driver or framework internals. */
const INTERNALS: Array<[string, RegExp]> = [
  ['stack frame', /\n\s+at\s+\S|\bat\s+[\w.$<>[\]]+\s+\([^)]*:\d+:\d+\)|\bat\s+(?:\/|node:)\S*:\d+:\d+/],
  ['source path', /[\w-]+\.(?:ts|js|mjs|cjs):\d+|(?:^|[\s"'(=])\/(?:[\w@.-]+\/)+[\w@.-]+\.(?:ts|js|mjs|cjs)\b|node_modules/],
  ['SQL', /\bSELECT\s|\bINSERT\s|\bUPDATE\s+"|\bDELETE\s+FROM\b|\bFROM\s+"/],
  ['ORM', /prisma/i],
  ['driver error', /DriverAdapter|invalid input syntax|ECONNREFUSED|duplicate key value|violates \w+ constraint/i],
  ['framework error code', /\bFST_ERR_\w+|\bHPE_\w+|\bERR_HTTP_\w+/],
];

export interface CheckOptions {
  /** Secrets that must never appear in any response (the credentials the fuzzer holds). */
  secrets: string[];
  /** Strings taken from the request, which the server may legitimately echo (ids, names, paths, fields). */
  echoes: string[];
  /** The request was HEAD: no body is expected, only the headers are checked. */
  head: boolean;
}

/** Every way the exchange breaks the contract; empty when it is fine. */
export function contractProblems(result: RawExchange, options: CheckOptions): string[] {
  if (result.responses.length === 0) {
    if (result.timedOut) return ['no response before the deadline'];
    return [`connection closed without any response${result.socketError ? ` (${result.socketError})` : ''}`];
  }
  return responseProblems(result.responses[0], options);
}

export function responseProblems(response: RawResponse, options: CheckOptions): string[] {
  const problems: string[] = [];
  const { status } = response;
  if (status >= 500) problems.push(`status ${status}`);
  if (status >= 300 && status < 400) problems.push(`redirect ${status}`);

  const ids = response.headers['x-request-id'] ?? [];
  if (ids.length !== 1 || !REQUEST_ID.test(ids[0])) problems.push(`X-Request-Id header ${JSON.stringify(ids)}`);

  const text = response.body.toString('utf8');
  const contentType = response.headers['content-type']?.[0] ?? '';
  let parsed: unknown;
  if (/json/i.test(contentType) && text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      problems.push('body labelled JSON is not JSON');
    }
  }

  if (status >= 400 && !options.head) {
    const error = (parsed as { error?: Record<string, unknown> } | undefined)?.error;
    if (!/^application\/json/i.test(contentType)) problems.push(`error with Content-Type ${JSON.stringify(contentType)}`);
    if (!error || typeof error !== 'object') {
      problems.push('error without the {error:{…}} envelope');
    } else {
      if (typeof error.code !== 'string' || !(error.code in CONTRACT_ERRORS)) problems.push(`error code ${JSON.stringify(error.code)} not in the contract`);
      else if (CONTRACT_ERRORS[error.code] !== status) problems.push(`code ${error.code} answered with status ${status}`);
      if (typeof error.message !== 'string' || error.message === '') problems.push('error without a message');
      if (error.request_id !== ids[0]) problems.push('error.request_id differs from X-Request-Id');
      const extra = Object.keys(parsed as object).filter((key) => key !== 'error');
      if (extra.length > 0) problems.push(`fields beside the envelope: ${extra.join(', ')}`);
    }
  }

  // The internals check reads JSON bodies (every API answer); the HTML and scripts of /docs are not API answers.
  const inspected = parsed !== undefined ? withoutEchoes(parsed, options.echoes) : /json|text\/plain/i.test(contentType) || status >= 400 ? text : '';
  for (const [what, pattern] of INTERNALS) {
    const match = pattern.exec(inspected);
    if (match) problems.push(`body shows ${what}: ${JSON.stringify(inspected.slice(Math.max(0, match.index - 40), match.index + 60))}`);
  }
  const everything = `${JSON.stringify(response.headers)}\n${text}`;
  for (const secret of options.secrets) {
    if (secret && everything.includes(secret)) problems.push('response contains a credential');
  }
  return problems;
}

/**
 * The strings of a JSON body (keys and values), joined, with everything the request itself
 * contained cut out: a 404 that repeats the path or a 201 that repeats a name is not a leak.
 */
function withoutEchoes(value: unknown, echoes: string[]): string {
  const pieces: string[] = [];
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') pieces.push(item);
    else if (typeof item === 'number' || typeof item === 'boolean') pieces.push(String(item));
    else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        pieces.push(key);
        pending.push(child);
      }
    }
  }
  const cuts = [...new Set(echoes.flatMap((echo) => [echo, echo.slice(0, 200)]))].filter((echo) => echo.length >= 2).sort((a, b) => b.length - a.length);
  return pieces.map((piece) => cuts.reduce((rest, cut) => (rest.includes(cut) ? rest.split(cut).join(' ') : rest), piece)).join('\u0001');
}

/** Percent-decoding that never throws (undecodable sequences stay as they are). */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** A request rendered for a report: printable, with long runs of one character folded. */
export function describeBytes(bytes: Buffer, max = 600): string {
  let text = JSON.stringify(bytes.toString('latin1')).slice(1, -1);
  text = text.replace(/(.)\1{39,}/g, (run, char: string) => `${char}…(×${run.length})…`);
  return text.length > max ? `${text.slice(0, max)}…(${bytes.length} bytes in all)` : text;
}
