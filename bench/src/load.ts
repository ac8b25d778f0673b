import autocannon from 'autocannon';
import { LatencyRecorder } from './stats';

export interface Scenario {
  id: 'S0' | 'S1' | 'S2' | 'S3' | 'S4';
  title: string;
  url: string;
  /** Cycled by every connection, each from its own offset so connections spread over the set. */
  requests: autocannon.Request[];
  expectedStatus: number;
}

export interface LoadResult {
  scenario: Scenario['id'];
  seconds: number;
  responses: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Share of responses with the scenario's expected status. */
  expectedShare: number;
  /** Share of the machine's CPU used by processes outside the test during the run (see cpu.ts). */
  otherCpu?: number;
  /** CPU time (user + system, all threads) of the server under test per response, µs. */
  serverCpuMicros?: number;
  /** Redis server CPU time per response, µs. */
  redisCpuMicros?: number;
  /** The load generator's CPU time per response, µs (autocannon runs in the bench's own process). */
  loadCpuMicros?: number;
}

/** One fixed-duration autocannon run at a fixed number of connections. */
export async function drive(scenario: Scenario, connections: number, seconds: number): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  let client = 0;
  const size = scenario.requests.length;
  const instance = autocannon({
    url: scenario.url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: scenario.requests,
    setupClient: (connection) => {
      if (size < 2) return;
      const offset = Math.floor((client++ * size) / connections) % size;
      connection.setRequests([...scenario.requests.slice(offset), ...scenario.requests.slice(0, offset)].map((request) => ({ ...request })));
    },
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.add(ms));
  const result = await instance;
  const latency = latencies.summary();
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  const responses = latency.count;
  return {
    scenario: scenario.id,
    seconds: result.duration,
    responses,
    rps: responses / result.duration,
    p50: latency.p50,
    p90: latency.p90,
    p99: latency.p99,
    max: latency.max,
    mean: latency.mean,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    expectedShare: responses === 0 ? 0 : (statuses[String(scenario.expectedStatus)] ?? 0) / responses,
  };
}
