import { usageNamespace } from './usage-namespace';

describe('usageNamespace', () => {
  const of = (databaseUrl?: string, dataDir = '.data') => usageNamespace({ databaseUrl, dataDir });

  it('is the same for every instance of one database, whatever credentials or options they connect with', () => {
    expect(of('postgresql://app:secret@db.internal:5432/lucitra')).toBe(of('postgres://reader:other@db.internal/lucitra?sslmode=require'));
  });

  it('differs between databases, servers and ports, so deployments sharing a Redis keep their usage apart', () => {
    const names = [
      of('postgresql://app@db.internal:5432/lucitra'),
      of('postgresql://app@db.internal:5432/lucitra_staging'),
      of('postgresql://app@db2.internal:5432/lucitra'),
      of('postgresql://app@db.internal:6432/lucitra'),
      of(undefined, '.data'),
      of(undefined, '/var/lib/lucitra'),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it('never contains the credentials', () => {
    expect(of('postgresql://app:hunter2@db.internal/lucitra')).toMatch(/^[0-9a-f]{16}$/);
  });
});
