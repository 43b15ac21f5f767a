import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import { DEFAULT_INSTANCES, defaultHandlerParams, httpDims, instance, spec, startHandler } from './fixtures.js';

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasPromtool)('promtool', () => {
  it('finds no problems in the rendered exposition', async () => {
    const [count, duration, size] = DEFAULT_INSTANCES;
    const odd = spec('odd.instance.ns', ValueType.DOUBLE, ['v']);
    const params = defaultHandlerParams() as { metrics: unknown[] };
    params.metrics.push({ name: 'odd_total', instance_name: odd.name, kind: 'COUNTER', description: 'Odd "values"\\ here.', label_names: ['v'] });
    const { handler, env } = await startHandler(params, [...DEFAULT_INSTANCES, odd]);
    if (count === undefined || duration === undefined || size === undefined) throw new Error('fixture');
    handler.handleMetrics([
      instance(count, 1, httpDims()),
      instance(duration, 12_500_000, httpDims()),
      instance(size, 123, httpDims({ response_code: 404 })),
      instance(odd, 1e21, { v: 'quote " backslash \\ newline \n' }),
    ]);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: env.exposition.render(), encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });
});
