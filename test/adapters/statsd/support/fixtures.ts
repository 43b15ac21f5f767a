/** Hand-built instances, environments and transports for the StatsD adapter's tests. */
import type { DatagramTransport, TransportFactory, TransportTarget } from '../../../../src/adapters/statsd/index.js';
import { testEnv as baseTestEnv, type TestEnv } from '../../../support/adapter-fixtures.js';

export { collectingReporter, instance, neverAborted, recordingLogger, spec, type Issue, type LogLine, type TestEnv } from '../../../support/adapter-fixtures.js';

/** A StatsD handler environment on a fake clock. */
export function testEnv(startMs = 1_700_000_000_000): TestEnv {
  return baseTestEnv('statsd.handler.istio-system', startMs);
}

/** A transport that keeps every datagram; `fail` makes sends report an error. */
export interface MemoryTransports {
  readonly factory: TransportFactory;
  readonly created: TransportTarget[];
  readonly datagrams: string[];
  readonly closed: TransportTarget[];
  fail: Error | undefined;
  /** All lines received, in order. */
  lines(): string[];
}

export function memoryTransports(): MemoryTransports {
  const t: MemoryTransports = {
    created: [],
    datagrams: [],
    closed: [],
    fail: undefined,
    factory: (target) => {
      t.created.push(target);
      const transport: DatagramTransport = {
        send(payload, done) {
          if (t.fail !== undefined) {
            const err = t.fail;
            setImmediate(() => done(err));
            return;
          }
          // A copy, as a server receives it: the handler writes its next flush over the same bytes.
          t.datagrams.push(Buffer.from(payload).toString('utf8'));
          setImmediate(() => done(undefined));
        },
        async close() {
          t.closed.push(target);
        },
      };
      return transport;
    },
    lines: () => t.datagrams.flatMap((d) => d.split('\n')),
  };
  return t;
}
