import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * Loaded into the service with `node --require` in `--profile` mode (src/ is not touched):
 * SIGUSR2 starts V8's sampling profiler, the next SIGUSR2 stops it and writes the profile
 * (.cpuprofile, readable by Chrome DevTools / speedscope) to BENCH_PROFILE_OUT. Profiling only
 * the measured window keeps start-up and warm-up out of the picture, which `--cpu-prof` cannot.
 */
const out = process.env.BENCH_PROFILE_OUT;
const intervalMicros = Number(process.env.BENCH_PROFILE_INTERVAL_US || 250);

if (out) {
  const session = new Session();
  session.connect();
  let running = false;
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  process.on('SIGUSR2', () => {
    const step = running
      ? post('Profiler.stop').then((result) => {
          running = false;
          writeFileSync(out, JSON.stringify((result as { profile: unknown }).profile));
          process.stderr.write(`profile written to ${out}\n`);
        })
      : post('Profiler.enable')
          .then(() => post('Profiler.setSamplingInterval', { interval: intervalMicros }))
          .then(() => post('Profiler.start'))
          .then(() => {
            running = true;
            process.stderr.write('profiler started\n');
          });
    step.catch((error: Error) => process.stderr.write(`profiler: ${error.message}\n`));
  });
}
