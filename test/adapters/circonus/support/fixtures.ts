/** Hand-built instances, environments and config helpers for the Circonus adapter's tests. */
import { ValueType, type InstanceSpec } from '../../../../src/core/adapter.js';
import {
  CirconusHandler,
  parseCirconusConfig,
  type CirconusConfig,
  type CirconusHandlerOptions,
} from '../../../../src/adapters/circonus/index.js';
import { collectingReporter, spec, testEnv as baseTestEnv, type TestEnv } from '../../../support/adapter-fixtures.js';

export { collectingReporter, instance, neverAborted, recordingLogger, spec, type Issue, type LogLine, type TestEnv } from '../../../support/adapter-fixtures.js';

/** A Circonus handler environment on the real clock. */
export function testEnv(name = 'circonus.handler.istio-system'): TestEnv {
  return baseTestEnv(name);
}

/** parseCirconusConfig that must succeed. */
export function mustParse(params: unknown, instances: readonly InstanceSpec[]): CirconusConfig {
  const r = collectingReporter();
  const cfg = parseCirconusConfig(params, instances, r);
  if (cfg === undefined) throw new Error(`unexpected config issues: ${JSON.stringify(r.issues, null, 2)}`);
  return cfg;
}

/** Fast retries so tests do not wait out cgm's 1 s / 2 s / 4 s schedule. */
export const FAST_RETRIES: CirconusHandlerOptions = { backoffBaseMs: 5, backoffMaxMs: 20 };

export async function startHandler(
  params: Record<string, unknown>,
  instances: readonly InstanceSpec[],
  options: CirconusHandlerOptions = FAST_RETRIES,
  env: TestEnv = testEnv(),
): Promise<{ handler: CirconusHandler; env: TestEnv }> {
  const handler = new CirconusHandler(mustParse(params, instances), instances, env, options);
  await handler.start();
  return { handler, env };
}

export const REQUEST_COUNT = spec('requestcount.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
});
export const REQUEST_DURATION = spec('requestduration.instance.istio-system', ValueType.DURATION, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
});
export const REQUEST_BYTES = spec('requestsize.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
});
export const ACTIVE_CONNECTIONS = spec('connections.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
});
