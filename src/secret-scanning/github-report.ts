import { AppError, FieldError } from '../errors/app-error';

/** One find of a GitHub report: the token, the pattern's type, and where it was found. */
export interface FoundToken {
  token: string;
  type: string;
  url: string;
  source: string;
}

/**
 * Bounds of a report. GitHub sends a batch of finds per request, far fewer than this; a field far
 * longer than any real one is not worth hashing or storing. The token bound leaves room for the
 * other providers' tokens a pattern may catch (ours are 43 characters).
 */
export const REPORT_LIMITS = { tokens: 1000, token: 1024, type: 128, url: 2048, source: 128 } as const;

const FIELDS = ['token', 'type', 'url', 'source'] as const;

/** The report in a parsed body: a top-level array of `{token, type, url, source}`, within REPORT_LIMITS. */
export function readReport(body: unknown): FoundToken[] {
  if (!Array.isArray(body)) throw AppError.validation('The report must be a JSON array of found tokens.');
  if (body.length > REPORT_LIMITS.tokens) {
    throw new AppError('PAYLOAD_TOO_LARGE', `A report may hold at most ${REPORT_LIMITS.tokens} tokens (this one holds ${body.length}).`);
  }
  const details: FieldError[] = [];
  body.forEach((item, index) => details.push(...problemsOf(item, `[${index}]`)));
  if (details.length > 0) {
    const shown = details.slice(0, 20);
    const more = details.length - shown.length;
    throw AppError.validation(more > 0 ? `Report validation failed (${more} more problems).` : 'Report validation failed.', shown);
  }
  return body as FoundToken[];
}

function problemsOf(item: unknown, at: string): FieldError[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return [{ field: at, message: `${at} must be an object` }];
  const problems: FieldError[] = [];
  for (const name of Object.keys(item)) {
    const field = `${at}.${name.slice(0, 100)}`;
    if (!(FIELDS as readonly string[]).includes(name)) problems.push({ field, message: `${field} is not a known field` });
  }
  for (const name of FIELDS) {
    const value = (item as Record<string, unknown>)[name];
    const field = `${at}.${name}`;
    if (typeof value !== 'string') problems.push({ field, message: `${field} must be a string` });
    else if (name === 'token' && value.length === 0) problems.push({ field, message: `${field} must not be empty` });
    else if (value.length > REPORT_LIMITS[name]) problems.push({ field, message: `${field} must be at most ${REPORT_LIMITS[name]} characters` });
  }
  return problems;
}
