import { describe, expect, it } from 'vitest';
import { fullMetricName, helpText, safeName } from '../../../src/adapters/prometheus/index.js';

describe('metric naming', () => {
  it.each<[string, string]>([
    ['requests_total', 'requests_total'],
    ['/requests', 'requests'],
    ['//requests', '_requests'],
    ['a/b.c d', 'a_b_c_d'],
    ['destination-app', 'destinationapp'],
    ['requestcount.instance.istio-system', 'requestcount_instance_istiosystem'],
    ['', ''],
  ])('safeName(%j) is %j', (input, want) => {
    expect(safeName(input)).toBe(want);
  });

  it('prefixes the istio namespace unless another is set', () => {
    expect(fullMetricName('', 'requests_total', 'requestcount.instance.istio-system')).toBe('istio_requests_total');
    expect(fullMetricName('my-mesh.v1', 'requests_total', 'x')).toBe('mymesh_v1_requests_total');
  });

  it('drops a namespace that safeName empties, as BuildFQName skips empty parts', () => {
    expect(fullMetricName('-', 'requests_total', 'x')).toBe('requests_total');
  });

  it('falls back to the instance name when the metric has no name', () => {
    expect(fullMetricName('', '', 'requestcount.instance.istio-system')).toBe('istio_requestcount_instance_istiosystem');
  });

  it('uses the description as HELP, else the unsanitised name', () => {
    expect(helpText('Total requests.', 'requests_total', 'i')).toBe('Total requests.');
    expect(helpText('', 'requests.total', 'i')).toBe('requests.total');
    expect(helpText('', '', 'requestcount.instance.istio-system')).toBe('requestcount.instance.istio-system');
  });
});
