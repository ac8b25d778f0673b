import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Bodies built to cost the server the most per byte, each just under the 1 MiB limit: the shapes
 * that blocked the process before the body-shape budget (wide objects: 17 s for 917 KB), and the
 * largest shapes the budget still lets through to parsing and validation.
 */

export const ONE_MIB = 1024 * 1024;

export interface WorstCase {
  name: string;
  /** Route the body is sent to: every body-taking route validates through the same pipe. */
  path: string;
  text: string;
}

/** `{"k0":0,"k1":0,…}` with as many members as fit in `bytes` (keys from `key(i)`). */
export function wideObject(bytes: number, key: (index: number) => string, value = '0', prefix = '', most = Infinity): string {
  const parts: string[] = [];
  let size = prefix.length + 2;
  for (let index = 0; index < most; index++) {
    const member = `${JSON.stringify(key(index))}:${value}`;
    if (size + member.length + 1 > bytes) break;
    parts.push(member);
    size += member.length + 1;
  }
  return `{${prefix}${parts.join(',')}}`;
}

/** `[item,item,…]` filling `bytes`. */
export function hugeArray(bytes: number, item: string): string {
  const count = Math.floor((bytes - 2) / (item.length + 1));
  return `[${Array(count).fill(item).join(',')}]`;
}

const BELOW_LIMIT = ONE_MIB - 256;
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).filter((name) => name !== '__proto__');
const shortKey = (index: number) => index.toString(36);

export function worstCases(): WorstCase[] {
  const record = (data: string) => `{"name":"worst case","data":${data}}`;
  return [
    { name: 'wide object, short unknown keys (the 17 s body)', path: '/v1/datasets', text: wideObject(BELOW_LIMIT, (i) => `k${shortKey(i)}`, '1', '"name":"n",') },
    { name: 'wide object in record data', path: '/v1/model-cards', text: record(wideObject(BELOW_LIMIT - 40, shortKey)) },
    { name: 'wide object of api-key fields', path: '/v1/api-keys', text: wideObject(BELOW_LIMIT, (i) => `f${shortKey(i)}`, '1', '"name":"n",') },
    { name: 'many duplicate keys', path: '/v1/datasets', text: `{${'"name":"n",'.repeat(Math.floor((BELOW_LIMIT - 20) / 11))}"name":"n"}` },
    { name: 'keys named like prototype members', path: '/v1/datasets', text: wideObject(BELOW_LIMIT, (i) => `${PROTOTYPE_NAMES[i % PROTOTYPE_NAMES.length]}${i >= PROTOTYPE_NAMES.length ? i : ''}`) },
    { name: 'prototype members in data', path: '/v1/model-cards', text: record(wideObject(BELOW_LIMIT - 40, (i) => `${PROTOTYPE_NAMES[i % PROTOTYPE_NAMES.length]}${i}`)) },
    { name: 'deep arrays', path: '/v1/datasets', text: `${'['.repeat(BELOW_LIMIT / 2)}${']'.repeat(BELOW_LIMIT / 2)}` },
    { name: 'deep objects in data', path: '/v1/model-cards', text: record(`${'{"a":'.repeat((BELOW_LIMIT - 40) / 6)}1${'}'.repeat((BELOW_LIMIT - 40) / 6)}`) },
    { name: 'one very long string', path: '/v1/datasets', text: JSON.stringify({ name: 'x'.repeat(BELOW_LIMIT - 20) }) },
    { name: 'long string of escapes', path: '/v1/datasets', text: `{"name":"${'\\u00e9'.repeat((BELOW_LIMIT - 20) / 6)}"}` },
    { name: 'very long key', path: '/v1/model-cards', text: record(`{"${'k'.repeat(BELOW_LIMIT - 60)}":1}`) },
    { name: 'huge array of numbers', path: '/v1/model-cards', text: record(`{"a":${hugeArray(BELOW_LIMIT - 50, '0')}}`) },
    { name: 'huge array of empty objects', path: '/v1/model-cards', text: record(`{"a":${hugeArray(BELOW_LIMIT - 50, '{}')}}`) },
    { name: 'huge array of short strings', path: '/v1/datasets', text: hugeArray(BELOW_LIMIT, '"s"') },
    { name: '__proto__ at the end of a large body', path: '/v1/datasets', text: `{"name":"n","description":"${'d'.repeat(60_000)}","x":${hugeArray(BELOW_LIMIT - 70_000, '0').slice(0, -1)},{"__proto__":1}]}` },
    // the largest shapes the budget lets through: they reach parsing and validation
    { name: '39,990 long numbers in data (under the budget)', path: '/v1/model-cards', text: record(`{"a":${hugeArray(BELOW_LIMIT - 50, '1234567890123456789012.5').slice(0, 39_990 * 25)}]}`) },
    { name: '9,999 unknown keys (under the budget)', path: '/v1/datasets', text: wideObject(BELOW_LIMIT, (i) => `${'u'.repeat(60)}${i}`, `"${'v'.repeat(30)}"`, '"name":"n",', 9_999) },
    { name: 'unknown keys holding long strings (under the budget)', path: '/v1/api-keys', text: `{"name":"n",${Array.from({ length: 15 }, (_, i) => `"u${i}":"${'v'.repeat(65_000)}"`).join(',')}}` },
    { name: 'data of 1 MiB in 16 strings (under the budget)', path: '/v1/model-cards', text: record(`{${Array.from({ length: 15 }, (_, i) => `"s${i}":"${'v'.repeat(65_000)}"`).join(',')}}`) },
    { name: 'a body that is an array of 39,999 objects (under the budget)', path: '/v1/datasets', text: hugeArray(39_999 * 3, '{}') },
    { name: 'a nested DTO given as 39,990 objects (under the budget)', path: '/v1/api-keys', text: `{"name":"n","rate_limit":${hugeArray(39_990 * 3, '{}')}}` },
    { name: 'three 10,000-key objects in data', path: '/v1/model-cards', text: record(`{"a":[${Array.from({ length: 3 }, () => wideObject(340_000, (i) => `${'k'.repeat(24)}${i}`, '0', '', 10_000)).join(',')}]}`) },
    { name: '12,000 keys of 75 characters in data (under the budget)', path: '/v1/model-cards', text: record(`{"a":[${[10_000, 1_999].map((most) => wideObject(ONE_MIB, (i) => `${'k'.repeat(70)}${i}`, '0', '', most)).join(',')}]}`) },
  ];
}

/**
 * How long one request may hold the event loop: a few tenths of a millisecond per KiB (parsing
 * and validating run at ~10 ms per MiB), plus room for a shared 2-core machine and this process's
 * own garbage collection. Before the body-shape budget, a 917 KB body took 17 s.
 */
export function blockBudgetMs(bytes: number): number {
  return 50 + (0.2 * bytes) / 1024;
}

/**
 * The longest the event loop was blocked while `run` ran, in ms (the app under test shares this
 * process's loop). Sampled every millisecond, so blocks shorter than that read as ~1 ms.
 */
export async function longestBlock<T>(run: () => Promise<T>): Promise<{ result: T; blockedMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    const result = await run();
    return { result, blockedMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}
