/**
 * `npm run -s openapi:export [-- <file>]`: writes the OpenAPI document the service serves at
 * `/docs/openapi.json` (default file: clients/typescript/openapi.json), for the typed client's build.
 * The application is built as the server builds it, on the embedded in-memory database, and asked
 * for the document through Fastify's `inject`: no port, no services, no files besides the output.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/load-config';
import { OPENAPI_JSON_PATH } from '../openapi';

// Two levels up is the project root from both src/cli/ and dist/cli/.
const DEFAULT_OUTPUT = path.resolve(__dirname, '../../clients/typescript/openapi.json');

async function main(): Promise<void> {
  const output = path.resolve(process.argv[2] ?? DEFAULT_OUTPUT);
  // Defaults only: the document does not depend on the environment, and no service is reached.
  const app = await createApp({ ...loadConfig({}), dataDir: 'memory://', logLevel: 'silent' });
  try {
    const response = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: OPENAPI_JSON_PATH });
    if (response.statusCode !== 200) throw new Error(`${OPENAPI_JSON_PATH} answered ${response.statusCode}`);
    // Parsed and re-printed: the file is readable and stable from one export to the next.
    const document: unknown = JSON.parse(response.body);
    mkdirSync(path.dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
  } finally {
    await app.close();
  }
  console.log(`OpenAPI document written to ${path.relative(process.cwd(), output) || output}`);
}

// Exit explicitly: nothing left behind (the engine's timers) may keep a finished command alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`OpenAPI export failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
