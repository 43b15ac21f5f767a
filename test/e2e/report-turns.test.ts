/**
 * Reports beyond one event-loop turn's budget wait for later turns instead of holding the loop:
 * over gRPC, a burst is answered in full and recorded exactly, in order, and a shutdown records
 * every Report it has answered OK before the handlers' final flush.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { recordingAdapter } from '../support/recording-adapter.js';
import { startTelemux, type Running } from '../support/harness.js';

const CONFIG = `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs}
spec:
  attributes:
    request.path: {valueType: STRING}
    response.code: {valueType: INT64}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits}
spec:
  compiledTemplate: metric
  params:
    value: response.code
    dimensions: {path: request.path | "none"}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: rec}
spec:
  compiledAdapter: recording
  params: {label: rec}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: all}
spec:
  actions:
  - handler: rec
    instances: [hits]
`;

/** Report `n` carries one set whose response.code is `n`, so order and loss are both visible. */
const numbered = (n: number) => buildReport([{ 'request.path': str('/burst'), 'response.code': int(n) }]);

describe('Reports past the turn budget', () => {
  let t: Running | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('are all answered OK and recorded exactly once, in arrival order, when a burst outruns the budget', async () => {
    const { adapter, built } = recordingAdapter();
    // A zero budget: one Report per turn, so almost all of the burst waits in the queue.
    t = await startTelemux({ configYaml: CONFIG, extraAdapters: [adapter], reportTurnBudgetMs: 0 });
    const sent = Array.from({ length: 300 }, (_, i) => t!.report(numbered(i)));
    let sawQueued = 0;
    const watch = setInterval(() => (sawQueued = Math.max(sawQueued, t?.telemux.queuedReports ?? 0)), 0);
    const answers = await Promise.all(sent);
    clearInterval(watch);
    expect(answers.every((a) => a.code === 0)).toBe(true);
    expect(sawQueued).toBeGreaterThan(0);
    const values = built.flatMap((h) => h.received.map((i) => Number(i.value)));
    expect(values.length).toBe(300);
    expect(new Set(values).size).toBe(300);
    // One client connection delivers in send order; the queue must not reorder what it holds.
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('are recorded before the final flush when a shutdown starts while they wait', async () => {
    const { adapter, built } = recordingAdapter();
    t = await startTelemux({ configYaml: CONFIG, extraAdapters: [adapter], reportTurnBudgetMs: 0 });
    const running = t;
    const sent = Array.from({ length: 200 }, (_, i) => running.report(numbered(i)));
    // Stop as soon as Reports are waiting in the queue.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (running.telemux.queuedReports > 5) {
          clearInterval(poll);
          resolve();
        }
      }, 0);
    });
    const handler = built.at(-1)!;
    let receivedAtClose = -1;
    const close = handler.close.bind(handler);
    handler.close = async () => {
      receivedAtClose = handler.received.length;
      await close();
    };
    const stopped = running.stop();
    t = undefined;
    const answers = await Promise.all(sent);
    await stopped;
    const ok = answers.filter((a) => a.code === 0).length;
    expect(ok).toBeGreaterThan(5);
    // Whatever was refused was refused as shutting down, not lost.
    for (const a of answers) if (a.code !== 0) expect(a.details).toMatch(/shutting down|Telemux/);
    expect(receivedAtClose).toBe(ok);
  });
});
