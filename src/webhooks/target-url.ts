import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenRange } from './address-policy';

/** Why a target cannot be reached; `kind` is what a delivery attempt records. */
export class TargetRefused extends Error {
  constructor(
    readonly kind: 'address_refused' | 'dns_failed',
    message: string,
  ) {
    super(message);
  }
}

/** What is wrong with a URL as a webhook target, before any name is resolved; null when nothing. */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url must be an absolute URL, such as https://example.com/hooks';
  }
  const protocols = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!protocols.includes(url.protocol)) return `url must start with ${protocols.map((p) => `${p}//`).join(' or ')}`;
  if (url.username || url.password) return 'url must not contain credentials (user:password@)';
  if (!url.hostname) return 'url must name a host';
  return null;
}

/** `[::1]` → `::1`: URL keeps the brackets of an IPv6 host. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

type Address = { address: string; family: number };

/**
 * Every address the host stands for, refused whole if any of them is not public (unless private
 * targets are allowed): the caller then connects only to an address checked here.
 */
export async function resolveTarget(hostname: string, allowPrivate: boolean): Promise<Address[]> {
  const host = bareHost(hostname);
  const addresses: Address[] = isIP(host)
    ? [{ address: host, family: isIP(host) }]
    : await new Promise((resolve, reject) =>
        dnsLookup(host, { all: true, verbatim: true }, (error, found) =>
          error || found.length === 0 ? reject(new TargetRefused('dns_failed', `${host} could not be resolved`)) : resolve(found),
        ),
      );
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const range = forbiddenRange(address);
      if (range) throw new TargetRefused('address_refused', `${host} resolves to ${address}, a ${range} address; webhooks only go to public addresses`);
    }
  }
  return addresses;
}

/**
 * A `lookup` for http.request that resolves and checks in one step, and hands the socket the
 * checked address: the name is not resolved again between the check and the connection, so a
 * DNS answer that changes (rebinding) cannot slip a private address in.
 */
export function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveTarget(hostname, allowPrivate).then(
      (addresses) => {
        const wanted = options.family ? addresses.filter((entry) => entry.family === options.family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`no IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return (callback as unknown as (error: null, addresses: Address[]) => void)(null, wanted);
        return callback(null, wanted[0].address, wanted[0].family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}
