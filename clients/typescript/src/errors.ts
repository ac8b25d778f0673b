import { parseRetryAfterMs } from './retry/backoff';
import type { ErrorCode, ErrorEnvelope, FieldError } from './schema-types';

export type { ErrorCode, FieldError } from './schema-types';

export interface LucitraApiErrorFields {
  status: number;
  code: ErrorCode;
  message: string;
  requestId?: string;
  details?: FieldError[];
  retryAfter?: number;
  upgradeUrl?: string;
}

/** Every failed call: the service's error envelope, read into fields. */
export class LucitraApiError extends Error {
  override readonly name = 'LucitraApiError';
  /** The HTTP status. */
  readonly status: number;
  readonly code: ErrorCode;
  /** The request's id (`req_…`): quote it when you contact support. */
  readonly requestId: string | undefined;
  /** VALIDATION_FAILED: which fields were refused, and why. */
  readonly details: FieldError[] | undefined;
  /** RATE_LIMITED: whole seconds until a request is accepted again. */
  readonly retryAfter: number | undefined;
  /** ENTERPRISE_REQUIRED: where the organization's plan is changed. */
  readonly upgradeUrl: string | undefined;

  constructor(fields: LucitraApiErrorFields) {
    super(fields.message);
    this.status = fields.status;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.details = fields.details;
    this.retryAfter = fields.retryAfter;
    this.upgradeUrl = fields.upgradeUrl;
  }

  /** Reads a failed response; a body that is not the envelope (a proxy's page) gets a code from its status. */
  static async fromResponse(response: Response): Promise<LucitraApiError> {
    const error = envelopeOf(await response.text().catch(() => ''));
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
    return new LucitraApiError({
      status: response.status,
      code: error?.code ?? codeForStatus(response.status),
      message: error?.message ?? `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
      requestId: error?.request_id ?? response.headers.get('x-request-id') ?? undefined,
      details: error?.details,
      retryAfter: error?.retry_after ?? (retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000)),
      upgradeUrl: error?.upgrade_url,
    });
  }
}

function envelopeOf(text: string): ErrorEnvelope['error'] | undefined {
  try {
    const error = (JSON.parse(text) as Partial<ErrorEnvelope> | null)?.error;
    return typeof error?.code === 'string' && typeof error.message === 'string' ? error : undefined;
  } catch {
    return undefined; // Not JSON: the status speaks for it.
  }
}

const CODE_FOR_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

// Statuses the service never sends (a proxy's 408, 502…): a refused request, or a server-side failure.
function codeForStatus(status: number): ErrorCode {
  return CODE_FOR_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED');
}
