import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('gives the contract defaults for an empty environment', () => {
    const sut = loadConfig({});
    expect(sut).toMatchObject({
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: '.data',
      rateLimit: { max: 100, windowSeconds: 60 },
      maxActiveKeysPerOrganization: 100,
      authFailureMax: 600,
      stytch: undefined,
      upgradeUrl: 'https://validate.lucitra.ai/settings/billing',
      dashboardOrigin: 'https://validate.lucitra.ai',
      logLevel: 'info',
      metricsToken: undefined,
      githubSecretScanningKeysUrl: 'https://api.github.com/meta/public_keys/secret_scanning',
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ', RATE_LIMIT_MAX: '' })).toMatchObject({ port: 3000, databaseUrl: undefined, rateLimit: { max: 100 } });
  });

  it('reads every variable', () => {
    const sut = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'redis://cache:6379',
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_SECONDS: '10',
      MAX_ACTIVE_KEYS_PER_ORGANIZATION: '25',
      STYTCH_PROJECT_ID: 'project-test-1',
      STYTCH_SECRET: 'secret-test-1',
      STYTCH_BASE_URL: 'http://127.0.0.1:9999',
      LOG_LEVEL: 'debug',
      METRICS_TOKEN: 'm',
      GITHUB_SECRET_SCANNING_KEYS_URL: 'http://127.0.0.1:9998/keys',
    });
    expect(sut).toMatchObject({
      port: 8080,
      redisUrl: 'redis://cache:6379',
      rateLimit: { max: 5, windowSeconds: 10 },
      maxActiveKeysPerOrganization: 25,
      stytch: { projectId: 'project-test-1', secret: 'secret-test-1', baseUrl: 'http://127.0.0.1:9999' },
      logLevel: 'debug',
      metricsToken: 'm',
      githubSecretScanningKeysUrl: 'http://127.0.0.1:9998/keys',
    });
  });

  it('stops with a message naming every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty', RATE_LIMIT_MAX: '0', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', STYTCH_SECRET: 's', MAX_ACTIVE_KEYS_PER_ORGANIZATION: '0',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'RATE_LIMIT_MAX', 'DATABASE_URL', 'LOG_LEVEL', 'STYTCH_PROJECT_ID', 'MAX_ACTIVE_KEYS_PER_ORGANIZATION']) expect(message).toContain(name);
  });

  it('names the OpenAPI server from PUBLIC_URL, by default this host on PORT', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://api.example.test/' }).publicUrl).toBe('https://api.example.test');
    expect(() => loadConfig({ PUBLIC_URL: 'api.example.test' })).toThrow(/PUBLIC_URL must be a http: or https:\/\/ URL/);
  });

  it('refuses a GitHub key document address that is not http(s), naming the variable', () => {
    expect(() => loadConfig({ GITHUB_SECRET_SCANNING_KEYS_URL: 'file:///etc/keys.json' })).toThrow(/GITHUB_SECRET_SCANNING_KEYS_URL must be/);
  });

  it('reads TRUST_PROXY in each of its forms and names it when an entry is not an address', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback');
    for (const bad of ['foo', '10.0.0.0/33', '10.0.0.1,proxy.internal', '::1/129', '10.0.0.0/8/8']) {
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY must be/);
    }
  });

  it('reads the usage spike policy, decimal multipliers included, and names a bad one', () => {
    expect(loadConfig({}).usageSpike).toEqual({ multiplier: 10, minRequests: 1000, ipMultiplier: 5, minIps: 20 });
    expect(
      loadConfig({ USAGE_SPIKE_MULTIPLIER: '2.5', USAGE_SPIKE_MIN_REQUESTS: '50', USAGE_SPIKE_IP_MULTIPLIER: '3', USAGE_SPIKE_MIN_IPS: '4' }).usageSpike,
    ).toEqual({ multiplier: 2.5, minRequests: 50, ipMultiplier: 3, minIps: 4 });
    for (const bad of ['0.5', 'ten', '-2', '1e3', '1001']) {
      expect(() => loadConfig({ USAGE_SPIKE_MULTIPLIER: bad })).toThrow(/USAGE_SPIKE_MULTIPLIER must be a number from 1 to 1000/);
    }
    expect(() => loadConfig({ USAGE_SPIKE_MIN_IPS: '0', USAGE_SPIKE_IP_MULTIPLIER: 'x' })).toThrow(/USAGE_SPIKE_IP_MULTIPLIER[\s\S]*USAGE_SPIKE_MIN_IPS/);
  });

  it('reads REDIS_CLUSTER_NODES as seed nodes, with credentials and TLS, and never together with REDIS_URL', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001,[::1]:7002' }).redisCluster).toEqual({
      nodes: [{ host: 'redis-a', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: '::1', port: 7002 }],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: 'cache:6379', REDIS_CLUSTER_USERNAME: 'lv', REDIS_CLUSTER_PASSWORD: 's3cret', REDIS_CLUSTER_TLS: 'true' }).redisCluster,
    ).toEqual({ nodes: [{ host: 'cache', port: 6379 }], username: 'lv', password: 's3cret', tls: true });
    expect(loadConfig({}).redisCluster).toBeUndefined();
    for (const bad of ['cache', 'cache:', 'cache:70000', 'redis://cache:6379', 'a:1,,b:2', '[zz]:7000', 'cache:0']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(/REDIS_CLUSTER_NODES must be comma-separated host:port/);
    }
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'cache:7000', REDIS_URL: 'redis://cache:6379' })).toThrow(/REDIS_URL and REDIS_CLUSTER_NODES cannot both be set/);
    expect(() => loadConfig({ REDIS_CLUSTER_PASSWORD: 'x' })).toThrow(/REDIS_CLUSTER_PASSWORD is set but REDIS_CLUSTER_NODES is not/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'cache:7000', REDIS_CLUSTER_TLS: 'yes' })).toThrow(/REDIS_CLUSTER_TLS must be true or false/);
  });

  it('reads the webhook variables, with defaults fit for production', () => {
    expect(loadConfig({}).webhooks).toEqual({
      secretsKey: undefined, allowPrivateTargets: false, timeoutMs: 10_000, backoffBaseMs: 5_000, maxAgeSeconds: 86_400, disableAfterFailures: 5, pollIntervalMs: 1_000,
    });
    const key = Buffer.alloc(32, 7);
    expect(
      loadConfig({
        WEBHOOK_SECRETS_KEY: key.toString('base64'), WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_BACKOFF_BASE_MS: '20',
        WEBHOOK_MAX_AGE_SECONDS: '60', WEBHOOK_DISABLE_AFTER_FAILURES: '3', WEBHOOK_POLL_INTERVAL_MS: '100',
      }).webhooks,
    ).toEqual({ secretsKey: key, allowPrivateTargets: true, timeoutMs: 500, backoffBaseMs: 20, maxAgeSeconds: 60, disableAfterFailures: 3, pollIntervalMs: 100 });
  });

  it('refuses a WEBHOOK_SECRETS_KEY that is not 32 bytes of base64, without repeating it', () => {
    for (const bad of [Buffer.alloc(16, 1).toString('base64'), Buffer.alloc(33, 1).toString('base64'), 'not base64 at all!!', 'a'.repeat(44)]) {
      let message = '';
      try {
        loadConfig({ WEBHOOK_SECRETS_KEY: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('WEBHOOK_SECRETS_KEY must be the base64 of 32 random bytes');
      expect(message).not.toContain(bad);
    }
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_TARGETS must be true or false/);
  });
});
