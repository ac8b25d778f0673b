import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Prisma } from '../../generated/prisma/client';
import type { KeyHour } from '../../store/admission-store';
import { BASELINE_HOURS, FlagKind, HourFigures } from './usage-spikes';

export interface KeyHourIps extends KeyHour {
  distinctIps: number;
}

/** What the baselines of a new key-hour are made of (see `baseline`). */
export interface HourHistory extends KeyHour {
  /** The key's creation or first recorded use, whichever is earlier. */
  requestsSinceMs: number;
  /** Requests of each busy hour of the BASELINE_HOURS before. */
  busyHours: number[];
  /** The first hour whose distinct IPs were counted; null: none yet. */
  ipsSinceMs: number | null;
  ipHours: number[];
}

export interface NewHour extends KeyHourIps {
  baselineRequests: number | null;
  baselineIps: number | null;
}

export interface JudgedHour extends KeyHour, HourFigures {
  organizationId: string;
}

export interface Flag extends KeyHour {
  organizationId: string;
  kind: FlagKind;
  observed: number;
  baseline: number;
}

export interface HourDetail {
  hour: Date;
  distinctIps: number;
  flags: { kind: FlagKind; observed: number; baseline: number; raisedAt: Date }[];
}

const keyIds = (hours: KeyHour[]) => hours.map((hour) => hour.keyId);
const hourMs = (hours: KeyHour[]) => hours.map((hour) => hour.hourMs);

/**
 * The hourly analysis's tables: `api_key_usage_hours` (distinct IPs and baselines) and
 * `api_key_usage_flags`. Set-based statements over the key-hours one flush touched.
 */
@Injectable()
export class UsageSpikeRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Raises the known hours' distinct IPs (never lowers them: an instance may read the count a
   * moment before another); returns the key-hours that have no row yet.
   */
  async updateDistinctIps(hours: KeyHourIps[]): Promise<KeyHourIps[]> {
    const updated = await this.prisma.$queryRaw<{ key_id: string; hour_ms: number }[]>`
      UPDATE api_key_usage_hours h SET distinct_ips = GREATEST(h.distinct_ips, u.ips)
      FROM unnest(${keyIds(hours)}::text[], ${hourMs(hours)}::bigint[], ${hours.map((hour) => hour.distinctIps)}::int[]) AS u(key_id, hour_ms, ips)
      WHERE h.api_key_id = u.key_id AND h.hour = to_timestamp(u.hour_ms / 1000.0)
      RETURNING u.key_id, u.hour_ms::float8 AS hour_ms`;
    const known = new Set(updated.map((row) => `${row.key_id}|${Number(row.hour_ms)}`));
    return hours.filter((hour) => !known.has(`${hour.keyId}|${hour.hourMs}`));
  }

  /** The history of each key-hour's key before that hour (keys deleted meanwhile are left out). */
  async history(hours: KeyHour[]): Promise<HourHistory[]> {
    const rows = await this.prisma.$queryRaw<
      { key_id: string; hour_ms: number; requests_since: Date; busy_hours: number[]; ips_since: Date | null; ip_hours: number[] }[]
    >`
      SELECT u.key_id, u.hour_ms::float8 AS hour_ms,
             LEAST(k.created_at, (SELECT min(minute) FROM api_key_usage WHERE api_key_id = u.key_id)) AS requests_since,
             ARRAY(SELECT SUM(requests + rate_limited)::int FROM api_key_usage
                   WHERE api_key_id = u.key_id AND minute >= w.start AND minute < w.hour
                   GROUP BY date_trunc('hour', minute, 'UTC')) AS busy_hours,
             (SELECT min(hour) FROM api_key_usage_hours WHERE api_key_id = u.key_id) AS ips_since,
             ARRAY(SELECT distinct_ips FROM api_key_usage_hours
                   WHERE api_key_id = u.key_id AND hour >= w.start AND hour < w.hour) AS ip_hours
      FROM unnest(${keyIds(hours)}::text[], ${hourMs(hours)}::bigint[]) AS u(key_id, hour_ms)
      JOIN api_keys k ON k.id = u.key_id
      CROSS JOIN LATERAL (SELECT to_timestamp(u.hour_ms / 1000.0) AS hour,
                                 to_timestamp(u.hour_ms / 1000.0) - ${`${BASELINE_HOURS} hours`}::interval AS start) w`;
    return rows.map((row) => ({
      keyId: row.key_id,
      hourMs: Number(row.hour_ms),
      requestsSinceMs: row.requests_since.getTime(),
      busyHours: row.busy_hours.map(Number),
      ipsSinceMs: row.ips_since?.getTime() ?? null,
      ipHours: row.ip_hours.map(Number),
    }));
  }

  /** New hour rows; one another instance made meanwhile keeps its baselines and takes the larger count. */
  async createHours(hours: NewHour[]): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO api_key_usage_hours (api_key_id, organization_id, hour, distinct_ips, baseline_requests, baseline_ips)
      SELECT u.key_id, k.organization_id, to_timestamp(u.hour_ms / 1000.0), u.ips, u.baseline_requests, u.baseline_ips
      FROM unnest(${keyIds(hours)}::text[], ${hourMs(hours)}::bigint[], ${hours.map((hour) => hour.distinctIps)}::int[],
                  ${hours.map((hour) => hour.baselineRequests)}::float8[], ${hours.map((hour) => hour.baselineIps)}::float8[])
           AS u(key_id, hour_ms, ips, baseline_requests, baseline_ips)
      JOIN api_keys k ON k.id = u.key_id
      ORDER BY u.key_id, u.hour_ms
      ON CONFLICT (api_key_id, hour) DO UPDATE SET distinct_ips = GREATEST(api_key_usage_hours.distinct_ips, EXCLUDED.distinct_ips)`;
  }

  /** Each key-hour's figures now: its requests so far (≤ 60 minute rows), distinct IPs, baselines. */
  async figures(hours: KeyHour[]): Promise<JudgedHour[]> {
    const rows = await this.prisma.$queryRaw<
      { key_id: string; organization_id: string; hour_ms: number; requests: number; distinct_ips: number; baseline_requests: number | null; baseline_ips: number | null }[]
    >`
      SELECT h.api_key_id AS key_id, h.organization_id, u.hour_ms::float8 AS hour_ms, h.distinct_ips, h.baseline_requests, h.baseline_ips,
             (SELECT COALESCE(SUM(requests + rate_limited), 0)::int FROM api_key_usage
              WHERE api_key_id = h.api_key_id AND minute >= h.hour AND minute < h.hour + interval '1 hour') AS requests
      FROM unnest(${keyIds(hours)}::text[], ${hourMs(hours)}::bigint[]) AS u(key_id, hour_ms)
      JOIN api_key_usage_hours h ON h.api_key_id = u.key_id AND h.hour = to_timestamp(u.hour_ms / 1000.0)`;
    return rows.map((row) => ({
      keyId: row.key_id,
      organizationId: row.organization_id,
      hourMs: Number(row.hour_ms),
      requests: row.requests,
      distinctIps: row.distinct_ips,
      baselineRequests: row.baseline_requests,
      baselineIps: row.baseline_ips,
    }));
  }

  /**
   * Writes the flags no instance has written yet and returns those: the primary key makes a
   * second writer wait for the first's commit, then write nothing — one flag, one audit event.
   */
  async raise(tx: Prisma.TransactionClient, flags: Flag[]): Promise<Flag[]> {
    const sorted = [...flags].sort((a, b) => `${a.keyId}|${a.hourMs}|${a.kind}`.localeCompare(`${b.keyId}|${b.hourMs}|${b.kind}`));
    const rows = await tx.$queryRaw<{ key_id: string; hour_ms: number; kind: FlagKind }[]>`
      INSERT INTO api_key_usage_flags (api_key_id, organization_id, hour, kind, observed, baseline)
      SELECT u.key_id, u.organization_id, to_timestamp(u.hour_ms / 1000.0), u.kind, u.observed, u.baseline
      FROM unnest(${keyIds(sorted)}::text[], ${sorted.map((flag) => flag.organizationId)}::text[], ${hourMs(sorted)}::bigint[],
                  ${sorted.map((flag) => flag.kind)}::text[], ${sorted.map((flag) => flag.observed)}::int[], ${sorted.map((flag) => flag.baseline)}::float8[])
           WITH ORDINALITY AS u(key_id, organization_id, hour_ms, kind, observed, baseline, n)
      ORDER BY u.n
      ON CONFLICT (api_key_id, hour, kind) DO NOTHING
      RETURNING api_key_id AS key_id, (extract(epoch FROM hour) * 1000)::float8 AS hour_ms, kind`;
    const raised = new Set(rows.map((row) => `${row.key_id}|${Number(row.hour_ms)}|${row.kind}`));
    return sorted.filter((flag) => raised.has(`${flag.keyId}|${flag.hourMs}|${flag.kind}`));
  }

  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }

  /** The hours of a key in [from, to) with their distinct IPs and flags. Scoped by organization in the query. */
  async hours(organizationId: string, keyId: string, from: Date, to: Date): Promise<HourDetail[]> {
    const rows = await this.prisma.apiKeyUsageHour.findMany({
      where: { organizationId, apiKeyId: keyId, hour: { gte: from, lt: to } },
      orderBy: { hour: 'asc' },
    });
    const flags = await this.flags(organizationId, keyId, from, to);
    return rows.map((row) => ({
      hour: row.hour,
      distinctIps: row.distinctIps,
      flags: flags.filter((flag) => flag.hour.getTime() === row.hour.getTime()),
    }));
  }

  /** The flags of a key raised for hours in [from, to), oldest hour first. Scoped by organization in the query. */
  async flags(organizationId: string, keyId: string, from: Date, to: Date) {
    const rows = await this.prisma.apiKeyUsageFlag.findMany({
      where: { organizationId, apiKeyId: keyId, hour: { gte: from, lt: to } },
      orderBy: [{ hour: 'asc' }, { kind: 'asc' }],
    });
    return rows.map((row) => ({ hour: row.hour, kind: row.kind as FlagKind, observed: row.observed, baseline: row.baseline, raisedAt: row.raisedAt }));
  }
}
