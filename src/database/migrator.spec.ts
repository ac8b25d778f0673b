it('loads via Function import', async () => {
  const imp = new Function('s', 'return import(s)') as (s: string) => Promise<any>;
  const bg = await imp('@prisma/schema-engine-wasm/schema_engine_bg');
  expect(typeof bg.SchemaEngine).toBe('function');
});
