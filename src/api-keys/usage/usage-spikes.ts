import type { UsageSpikePolicy } from '../../config/app-config';
import { HOUR_MS } from '../../store/admission-store';

/** How far back a key's usual hour is taken from, and how much history it needs to have one. */
export const BASELINE_HOURS = 7 * 24;
export const MIN_HISTORY_HOURS = 24;

export type FlagKind = 'requests' | 'ips';

/** One key-hour as the detector judges it. Baselines null: not judged (too little history). */
export interface HourFigures {
  /** Requests of the hour so far, admitted and refused with 429 alike: a thief's traffic is both. */
  requests: number;
  distinctIps: number;
  baselineRequests: number | null;
  baselineIps: number | null;
}

export interface RaisedFlag {
  kind: FlagKind;
  observed: number;
  baseline: number;
}

/**
 * The key's usual hour: the mean of the hours it was used in over the BASELINE_HOURS before
 * `hourMs` (`busyHours`: one figure per such hour). Busy hours only, so a key used in office
 * hours is compared with its office hours, not with its nights. Null while its history (from
 * `sinceMs`, its creation or first recorded use) is shorter than MIN_HISTORY_HOURS: a new key
 * has no usual yet. A key idle all week has a baseline of 0.
 */
export function baseline(busyHours: number[], sinceMs: number | null, hourMs: number): number | null {
  if (sinceMs === null || hourMs - sinceMs < MIN_HISTORY_HOURS * HOUR_MS) return null;
  if (busyHours.length === 0) return 0;
  return busyHours.reduce((sum, value) => sum + value, 0) / busyHours.length;
}

/**
 * The flags an hour earns: above multiplier × its baseline AND at least the floor, so a quiet key
 * going from 2 to 30 requests is not an alarm.
 */
export function raisedFlags(hour: HourFigures, policy: UsageSpikePolicy): RaisedFlag[] {
  const flags: RaisedFlag[] = [];
  if (exceeds(hour.requests, hour.baselineRequests, policy.multiplier, policy.minRequests)) {
    flags.push({ kind: 'requests', observed: hour.requests, baseline: hour.baselineRequests! });
  }
  if (exceeds(hour.distinctIps, hour.baselineIps, policy.ipMultiplier, policy.minIps)) {
    flags.push({ kind: 'ips', observed: hour.distinctIps, baseline: hour.baselineIps! });
  }
  return flags;
}

function exceeds(observed: number, usual: number | null, multiplier: number, floor: number): boolean {
  return usual !== null && observed >= floor && observed > multiplier * usual;
}

export function hourOf(ms: number): number {
  return ms - (ms % HOUR_MS);
}
