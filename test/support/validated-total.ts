import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The number of responses checked against the OpenAPI document, added up over a run: each spec
 * file appends its count to a file of the run (named by global setup), global teardown sums it.
 */
export function addToValidatedTotal(count: number): void {
  const file = totalFile();
  if (file && count > 0) appendFileSync(file, `${count}\n`);
}

/** The run's total (the file removed); undefined outside a run started by global setup. */
export function takeValidatedTotal(): number | undefined {
  const file = totalFile();
  if (!file) return undefined;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no spec started an application
  }
  rmSync(file, { force: true });
  return text.split('\n').filter(Boolean).reduce((sum, line) => sum + Number(line), 0);
}

function totalFile(): string | undefined {
  const run = process.env.LV_E2E_RUN_ID;
  return run ? path.join(tmpdir(), `lv-openapi-validated-${run}.txt`) : undefined;
}
