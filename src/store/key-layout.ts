import calculateSlot from 'cluster-key-slot';

/**
 * Where the admission state lives in Redis. One admission touches five keys — the key's state,
 * the organization's tier, the subject's sliding log, the pending usage, the key's distinct IPs
 * of the hour — and must stay one script call, which Redis Cluster allows only when all five
 * hash to one slot.
 *
 * The single-node layout keeps the names the service has always used. The cluster layout puts
 * every key of one subject (an API key, a dashboard member, an IP address) under one of
 * USAGE_BUCKETS hash tags, `{<bucket>}`, chosen by the subject: a large organization's keys
 * spread over every shard, and each bucket has its own pending usage, which the drain visits.
 * The price: the organization's tier is kept once per bucket its traffic uses, so a tier change
 * writes every bucket (see `organizationCopies`), a rare write, against every request of a big
 * organization landing on one shard.
 */
export interface KeyLayout {
  /**
   * KEYS of the admission script for one request: key state, tier, sliding log, pending usage,
   * distinct IPs of `hourMs` (a request counting usage has its key's subject, hence its slot).
   */
  admission(request: AdmissionKeysRequest, hourMs: number): [string, string, string, string, string];
  /** The HyperLogLog of the client IPs a key was used from in the hour starting at `hourMs`. */
  distinctIps(keyId: string, hourMs: number): string;
  /** The state of a key, which an API key's requests (subject `k:<key id>`) read. */
  keyState(keyId: string): string;
  /** The tier copy that requests of `subject` read. */
  organizationState(organizationId: string, subject: string): string;
  /** Every copy of the organization's tier a request may read. */
  organizationCopies(organizationId: string): string[];
  /** Each bucket's pending usage and batches: the drain visits them all. */
  usageBuckets(): UsageBucketKeys[];
}

export interface AdmissionKeysRequest {
  subject: string;
  keyId?: string;
  organizationId?: string;
  usageKeyId?: string;
}

export interface UsageBucketKeys {
  pending: string;
  /** Sorted set: batch id → claim deadline (ms). */
  batches: string;
  batch(id: string): string;
}

/** Hash tags of the cluster layout; fixed, since changing it moves every key. */
export const USAGE_BUCKETS = 1024;

/** The subject whose slot holds a key's state. */
export function keySubject(keyId: string): string {
  return `k:${keyId}`;
}

/** The names of one Redis server (and of a deployment upgraded from a version without cluster mode). */
export function singleNodeLayout(usageNamespace: string): KeyLayout {
  const usage = usageKeys(`lv:usage:${usageNamespace}`);
  return {
    admission: (request, hourMs) => [
      `lv:k:${request.keyId ?? '-'}`, `lv:o:${request.organizationId ?? '-'}`, `lv:rl:${request.subject}`, usage.pending,
      request.usageKeyId ? `lv:ips:${request.usageKeyId}:${hourMs}` : 'lv:ips:-',
    ],
    keyState: (keyId) => `lv:k:${keyId}`,
    distinctIps: (keyId, hourMs) => `lv:ips:${keyId}:${hourMs}`,
    organizationState: (organizationId) => `lv:o:${organizationId}`,
    organizationCopies: (organizationId) => [`lv:o:${organizationId}`],
    usageBuckets: () => [usage],
  };
}

export function clusterLayout(usageNamespace: string): KeyLayout {
  const buckets = Array.from({ length: USAGE_BUCKETS }, (_, bucket) => usageKeys(`lv:{${bucket}}:usage:${usageNamespace}`));
  const tag = (subject: string) => `lv:{${bucketOf(subject)}}`;
  return {
    admission: (request, hourMs) => {
      // one CRC16 per request: the tag and the bucket's pending usage come from the same bucket
      const bucket = bucketOf(request.subject);
      const at = `lv:{${bucket}}`;
      return [
        `${at}:k:${request.keyId ?? '-'}`, `${at}:o:${request.organizationId ?? '-'}`, `${at}:rl:${request.subject}`, buckets[bucket].pending,
        request.usageKeyId ? `${at}:ips:${request.usageKeyId}:${hourMs}` : `${at}:ips:-`,
      ];
    },
    keyState: (keyId) => `${tag(keySubject(keyId))}:k:${keyId}`,
    distinctIps: (keyId, hourMs) => `${tag(keySubject(keyId))}:ips:${keyId}:${hourMs}`,
    organizationState: (organizationId, subject) => `${tag(subject)}:o:${organizationId}`,
    organizationCopies: (organizationId) => buckets.map((_, bucket) => `lv:{${bucket}}:o:${organizationId}`),
    usageBuckets: () => buckets,
  };
}

/** The bucket of a subject: its own hash slot, folded onto the buckets (CRC16, as Redis Cluster hashes). */
export function bucketOf(subject: string): number {
  return calculateSlot(subject) % USAGE_BUCKETS;
}

function usageKeys(pending: string): UsageBucketKeys {
  return { pending, batches: `${pending}:batches`, batch: (id) => `${pending}:batch:${id}` };
}
