/**
 * The Report endpoint's HTTP/2 windows, as any client sees them: wide enough that several
 * Envoy-sized Reports per connection are sent without waiting for the server to acknowledge earlier
 * bytes. With HTTP/2's 64 KiB default a busy server let Reports queue in clients for seconds, where
 * no load shedding could refuse them.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_WINDOW_BYTES, STREAM_WINDOW_BYTES } from '../../src/core/server/http2-window.js';
import { formatHostPort } from '../../src/core/server/http.js';
import { startTelemux, type Running } from '../support/harness.js';

describe('the gRPC endpoint', () => {
  let t: Running;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    t = await startTelemux();
    session = connect(`http://${formatHostPort(t.addresses.grpc)}`);
    await new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    });
  });
  afterAll(async () => {
    session.close();
    await t.stop();
  });

  it('lets one call use the whole connection window', () => {
    expect(session.remoteSettings.initialWindowSize).toBe(STREAM_WINDOW_BYTES);
    expect(STREAM_WINDOW_BYTES).toBeGreaterThanOrEqual(CONNECTION_WINDOW_BYTES);
  });

  it('lets a connection have 256 KiB in flight, shared by its calls', async () => {
    // The connection window arrives as a WINDOW_UPDATE right after the settings.
    const until = Date.now() + 2000;
    while ((session.state.remoteWindowSize ?? 0) < CONNECTION_WINDOW_BYTES && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(session.state.remoteWindowSize).toBe(CONNECTION_WINDOW_BYTES);
  });

  it('takes the connection window the operator sets', async () => {
    const wide = await startTelemux({ connectionWindowBytes: 1024 * 1024 });
    const client = connect(`http://${formatHostPort(wide.addresses.grpc)}`);
    try {
      const until = Date.now() + 2000;
      while ((client.state.remoteWindowSize ?? 0) < 1024 * 1024 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(client.state.remoteWindowSize).toBe(1024 * 1024);
    } finally {
      client.close();
      await wide.stop();
    }
  });
});
