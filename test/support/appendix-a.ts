import type { ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';

/** The spec's Appendix A request: one inbound HTTP request, index by index as Envoy encodes it. */
export function appendixA(): ReportRequest {
  return {
    attributes: [
      {
        words: [],
        strings: { 131: 92, 201: 219, 205: -1, 193: -2 },
        int64s: { 23: 123n, 30: 200n },
        doubles: {},
        bools: { 177: true },
        timestamps: {},
        durations: { 29: { seconds: 0n, nanos: 12_500_000 } },
        bytes: { 150: Buffer.from([10, 0, 0, 5]) },
        stringMaps: { 15: { entries: { 86: -3, 31: -4 } } },
      },
    ],
    defaultWords: ['-', 'reviews.default.svc.cluster.local', 'curl/7.58', 'reviews:9080'],
    globalWordCount: 222,
    repeatedAttributesSemantics: 1,
  };
}

/** The 20 labels Appendix A's request gets under the default config. */
export const APPENDIX_A_LABELS: Readonly<Record<string, string>> = {
  reporter: 'destination',
  source_app: 'unknown',
  source_principal: 'unknown',
  source_workload: 'unknown',
  source_workload_namespace: 'unknown',
  source_version: 'unknown',
  destination_app: 'unknown',
  destination_principal: 'unknown',
  destination_workload: 'unknown',
  destination_workload_namespace: 'unknown',
  destination_version: 'unknown',
  destination_service: 'reviews.default.svc.cluster.local',
  destination_service_name: 'unknown',
  destination_service_namespace: 'unknown',
  request_protocol: 'http',
  response_code: '200',
  response_flags: '-',
  permissive_response_code: 'none',
  permissive_response_policyid: 'none',
  connection_security_policy: 'mutual_tls',
};
