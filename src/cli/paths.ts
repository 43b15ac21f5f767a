import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is), whether running from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the telemux package root');
    dir = up;
  }
  return dir;
}

/** The embedded default operator config: the Istio 1.4 default telemetry config. */
export function defaultConfigPath(): string {
  return join(packageRoot(), 'config');
}
