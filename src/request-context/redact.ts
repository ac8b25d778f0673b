const KEY = /luci(?:_|%5f)[A-Za-z0-9]+/gi;
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** An API key or session token pasted into a URL (`?api_key=luci_…`) must not reach the log with it. */
export function redactCredentials(text: string): string {
  return text.replace(KEY, 'luci_[REDACTED]').replace(JWT, 'eyJ[REDACTED]');
}
