import type { Clock } from '../adapter.js';
import { ConfigError, formatConfigIssue } from '../errors.js';
import type { Logger } from '../log.js';
import type { Admission } from './admission.js';
import { DEFAULT_SECURITY_POLL_MS, FilePoller } from './file-poller.js';
import { loadTenantsFile } from './tenants.js';

export interface TenantsSourceOptions {
  readonly path: string;
  readonly admission: Admission;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pollIntervalMs?: number;
  /** Told about every reload attempt after the first load. */
  readonly onReload?: (ok: boolean) => void;
}

/**
 * Keeps an Admission in step with the tenants file: loaded before the server binds (an invalid
 * file stops startup), then read again whenever it changes. An edit that does not validate is
 * logged with every problem's position and ignored; the last good tenants stay in force.
 */
export class TenantsSource {
  private poller: FilePoller | undefined;

  constructor(private readonly opts: TenantsSourceOptions) {}

  /** Throws ConfigError when the file is unreadable or invalid. */
  async start(): Promise<void> {
    const o = this.opts;
    const directory = await loadTenantsFile(o.path);
    o.admission.update(directory, o.clock.now());
    o.logger.info('tenants loaded', { path: o.path, tenants: directory.tenants.size, tokens: directory.tokenCount });
    this.poller = new FilePoller({ paths: [o.path], intervalMs: o.pollIntervalMs ?? DEFAULT_SECURITY_POLL_MS, onChange: () => this.reload(), logger: o.logger });
    this.poller.start();
  }

  private async reload(): Promise<void> {
    const o = this.opts;
    try {
      const directory = await loadTenantsFile(o.path);
      o.admission.update(directory, o.clock.now());
      o.logger.info('tenants reloaded', { path: o.path, tenants: directory.tenants.size, tokens: directory.tokenCount });
      o.onReload?.(true);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const i of e.issues) o.logger.error('tenants file rejected; the previous tenants stay in force', { issue: formatConfigIssue(i) });
      o.onReload?.(false);
    }
  }

  async close(): Promise<void> {
    await this.poller?.close();
  }
}
