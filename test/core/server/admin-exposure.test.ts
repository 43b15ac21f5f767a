import { describe, expect, it } from 'vitest';
import { adminExposureRefusal } from '../../../src/core/server/admin-auth.js';

describe('where the admin API may listen', () => {
  it('anywhere on loopback, token or not', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', '::1', 'localhost', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(adminExposureRefusal(host, false, false)).toBeUndefined();
  });

  it('beyond loopback only with a token, or when told --admin-insecure', () => {
    // A DNS name that merely starts with "127." can resolve anywhere.
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'telemux.example', '127.example.com', '127.0.0.1.example.com']) {
      expect(adminExposureRefusal(host, false, false)).toContain(`the admin API would listen on ${host}, beyond loopback, without a token`);
      expect(adminExposureRefusal(host, true, false)).toBeUndefined();
      expect(adminExposureRefusal(host, false, true)).toBeUndefined();
    }
  });
});
