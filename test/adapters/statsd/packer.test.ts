import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ValueType, type MetricInstance } from '../../../src/core/adapter.js';
import { DatagramPacker, datagramTexts, MAX_UDP_PAYLOAD, packLines, parseStatsdConfig, STATSD_EVENTS, StatsdHandler } from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, neverAborted, spec, testEnv } from './support/fixtures.js';
import { startUdpReceiver, type UdpReceiver } from './support/udp-receiver.js';

describe('the datagram packer', () => {
  it('fills a datagram up to exactly flushBytes and starts a new one past it', () => {
    // 'aaaa' + '\n' + 'bbbb' = 9 bytes
    expect(datagramTexts(packLines(['aaaa', 'bbbb', 'cc'], 9))).toEqual(['aaaa\nbbbb', 'cc']);
    expect(datagramTexts(packLines(['aaaa', 'bbbb', 'cc'], 8))).toEqual(['aaaa', 'bbbb\ncc']);
  });

  it('counts bytes, not characters, so multi-byte names cannot overflow a datagram', () => {
    // 'ü' is two bytes in UTF-8.
    const r = packLines(['üüü', 'üüü'], 12);
    expect(datagramTexts(r)).toEqual(['üüü', 'üüü']);
    expect(datagramTexts(packLines(['üüü', 'üüü'], 13))).toEqual(['üüü\nüüü']);
  });

  it('keeps a multi-line unit together and counts its lines', () => {
    const r = packLines(['a:1|c', 'g:0|g\ng:-1|g', 'b:1|c'], 14);
    expect(datagramTexts(r)).toEqual(['a:1|c', 'g:0|g\ng:-1|g', 'b:1|c']);
    expect(r.lineCounts).toEqual([1, 2, 1]);
    expect(r.lines).toBe(4);
  });

  it('sends a unit longer than the limit alone, in order, and says so', () => {
    const r = packLines(['short', 'x'.repeat(20), 'ok', 'fine'], 10);
    expect(datagramTexts(r)).toEqual(['short', 'x'.repeat(20), 'ok\nfine']);
    expect(r.linesAlone).toBe(1);
    expect(r.oversized).toBe(0);
    expect([...r.unitDatagram]).toEqual([0, 1, 2, 2]);
  });

  it('leaves out only a unit no UDP datagram can carry, and says so', () => {
    const r = packLines(['a', 'x'.repeat(MAX_UDP_PAYLOAD + 1), 'y'.repeat(MAX_UDP_PAYLOAD), 'b'], 10);
    expect(datagramTexts(r)).toEqual(['a', 'y'.repeat(MAX_UDP_PAYLOAD), 'b']);
    expect(r.oversized).toBe(1);
    expect(r.oversizedLines).toBe(1);
    expect(r.linesAlone).toBe(1);
    expect([...r.unitDatagram]).toEqual([0, -1, 1, 2]);
  });

  it('writes lines as UTF-8 over whatever an earlier flush left in its arena, growing it as needed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map((s) => s.replace(/[\n:]/g, '_')), fc.double({ noNaN: true, noDefaultInfinity: true })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 300 }),
        (entries, max) => {
          // A small used arena full of stale bytes: the packer must overwrite and outgrow it.
          const stale = Buffer.alloc(64, 'z');
          const packer = new DatagramPacker(max, 4, stale);
          const expected: string[] = [];
          for (const [name, v] of entries) {
            const value = String(v);
            packer.line(name, value, '|ms', Buffer.byteLength(name) + 1 + value.length + 3);
            expected.push(`${name}:${value}|ms`);
          }
          const packed = packer.finish();
          expect(datagramTexts(packed).flatMap((d) => d.split('\n'))).toEqual(expected);
          expect(packed.lines).toBe(expected.length);
          for (const d of datagramTexts(packed)) if (Buffer.byteLength(d) > max) expect(d).not.toContain('\n');
        },
      ),
    );
  });

  it('packs a flush far larger than its first arena byte for byte', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `istio.latency.svc-${String(i % 97)}.ns:${String(i / 7)}|ms`);
    const r = packLines(lines, 1400);
    expect(r.arena.length).toBeGreaterThan(64 * 1024);
    expect(datagramTexts(r).flatMap((d) => d.split('\n'))).toEqual(lines);
  });

  it('never splits, reorders or loses a line, and never exceeds the limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 40 }).map((s) => s.replace(/\n/g, '_'))),
        fc.integer({ min: 1, max: 200 }),
        (lines, max) => {
          const r = packLines(lines, max);
          // Over the limit only alone: a long line never shares its datagram.
          for (const d of datagramTexts(r)) if (Buffer.byteLength(d) > max) expect(d).not.toContain('\n');
          expect(datagramTexts(r).flatMap((d) => d.split('\n'))).toEqual(lines);
          expect(r.lines).toBe(lines.length);
          expect(r.linesAlone).toBe(lines.filter((l) => Buffer.byteLength(l) > max).length);
          expect(r.oversized).toBe(0);
        },
      ),
    );
  });
});

describe('a 100,000-instance flush over loopback UDP', () => {
  let receiver: UdpReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('arrives as datagrams of at most flushBytes, with no line split and every line received', async () => {
    receiver = await startUdpReceiver();
    const flushBytes = 1400;
    const requests = spec('requestcount.instance.istio-system', ValueType.INT64, {
      destination_service: ValueType.STRING,
      response_code: ValueType.INT64,
    });
    const latency = spec('requestduration.instance.istio-system', ValueType.DURATION, { destination_service: ValueType.STRING });
    const report = collectingReporter();
    const config = parseStatsdConfig(
      {
        address: `127.0.0.1:${receiver.port}`,
        prefix: 'mesh',
        flushBytes,
        // Every instance its own series, on purpose: the series limits would fold them.
        maxSeries: 100_000,
        maxSeriesPerMetric: 100_000,
        metrics: {
          'requestcount.instance.istio-system': {
            type: 'COUNTER',
            nameTemplate: 'requests.{{.destination_service}}.{{.response_code}}',
          },
          'requestduration.instance.istio-system': { type: 'DISTRIBUTION', nameTemplate: 'latency.{{.destination_service}}' },
        },
      },
      [requests, latency],
      report,
    );
    expect(report.issues).toEqual([]);
    if (config === undefined) throw new Error('config rejected');
    const env = testEnv();
    const handler = new StatsdHandler(config, [requests, latency], env);
    await handler.start();

    // 50,000 counter series (one instance each) and 50,000 timer samples over 500 series: every
    // instance becomes its own line, the most lines 100,000 instances can make.
    const expected = new Set<string>();
    const batch: MetricInstance[] = [];
    for (let i = 0; i < 50_000; i++) {
      const svc = `service-${i}.ns-${i % 37}.svc.cluster.local`;
      batch.push(instance(requests, 1, { destination_service: svc, response_code: 200 }));
      expected.add(`mesh.requests.${svc}.200:1|c`);
      const ms = (i % 1000) + 0.5;
      batch.push(instance(latency, ms * 1e6, { destination_service: `svc-${i % 500}` }));
      expected.add(`mesh.latency.svc-${i % 500}:${ms}|ms`);
    }
    for (let i = 0; i < batch.length; i += 1000) expect(handler.handleMetrics(batch.slice(i, i + 1000))).toBeUndefined();
    await handler.flush(neverAborted());
    await handler.close();

    const linesSent = env.events.get(STATSD_EVENTS.linesSent);
    const datagramsSent = env.events.get(STATSD_EVENTS.datagramsSent) ?? 0;
    expect(linesSent).toBe(100_000);
    await receiver.waitFor((d) => d.length >= datagramsSent, 10_000);
    expect(receiver.datagrams).toHaveLength(datagramsSent);

    const received: string[] = [];
    for (const d of receiver.datagrams) {
      expect(d.length).toBeLessThanOrEqual(flushBytes);
      const text = d.toString('utf8');
      expect(text.endsWith('\n')).toBe(false);
      received.push(...text.split('\n'));
    }
    // Every line is whole: it is one of the lines sent (timer samples may repeat).
    for (const line of received) expect(expected.has(line), line).toBe(true);
    expect(received).toHaveLength(100_000);
    expect(new Set(received)).toEqual(expected);
    // Packing, not one datagram per line: ~50 lines a datagram at these name lengths.
    expect(datagramsSent).toBeLessThan(100_000 / 25);
  });
});
