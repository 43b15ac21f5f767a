import type { AnyAdapter, Clock } from '../adapter.js';
import { compileConfig, type ConfigSnapshot } from '../config/compile.js';
import { issue, loadConfigPath, parseConfigTexts, type ConfigText, type LoadedSource } from '../config/document.js';
import { formatConfigIssue, HandlerBuildError, TelemuxError, type ConfigIssue } from '../errors.js';
import type { Logger } from '../log.js';
import type { SelfMetrics } from '../server/self-metrics.js';
import type { ApplySummary, Runtime } from './runtime.js';

/** Where a config comes from. Loading is deferred so that applies run strictly in order. */
export interface ConfigSource {
  /** `path` for --config (at startup or from the watcher), `api` for the admin API. */
  readonly origin: 'path' | 'api';
  /** The path, or a short description of an API upload. */
  readonly description: string;
  /** The file names, as the operator wrote them. */
  readonly files: () => readonly string[];
  load(): Promise<LoadedSource>;
}

/** The --config file or directory, read when the apply runs. */
export function pathSource(path: string): ConfigSource {
  let files: readonly string[] = [];
  return {
    origin: 'path',
    description: path,
    files: () => files,
    async load() {
      const loaded = await loadConfigPath(path);
      files = [...new Set(loaded.documents.map((d) => d.file))];
      return loaded;
    },
  };
}

/** Files uploaded through the admin API, named as the client named them. */
export function textSource(texts: readonly ConfigText[]): ConfigSource {
  const names = texts.map((t) => t.name);
  return {
    origin: 'api',
    description: `api (${names.length} file${names.length === 1 ? '' : 's'})`,
    files: () => names,
    load: () => Promise.resolve(parseConfigTexts(texts)),
  };
}

/** What triggered an apply; only logs and GET /api/v1/config show it. */
export type ApplyTrigger = 'startup' | 'api' | 'watch';

export type ApplyOutcome =
  | { readonly applied: true; readonly summary: ApplySummary; readonly warnings: readonly ConfigIssue[] }
  /** Errors first, then warnings, each group in file order. */
  | { readonly applied: false; readonly issues: readonly ConfigIssue[] };

/** The config currently serving. */
export interface ActiveConfigInfo {
  readonly hash: string;
  readonly counts: ConfigSnapshot['counts'];
  readonly origin: ConfigSource['origin'];
  readonly description: string;
  readonly files: readonly string[];
  readonly trigger: ApplyTrigger;
  /** Milliseconds since the epoch, on the core's clock. */
  readonly appliedAt: number;
}

/** The most recent apply attempt, successful or not. */
export interface LastApplyInfo {
  readonly at: number;
  readonly trigger: ApplyTrigger;
  readonly description: string;
  readonly applied: boolean;
  readonly errors: number;
  readonly warnings: number;
}

export interface ConfigReloaderOptions {
  readonly runtime: Runtime;
  readonly adapters: ReadonlyMap<string, AnyAdapter>;
  readonly defaultNamespace?: string;
  readonly metrics: SelfMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * The one path every config change takes (startup, admin API, directory watcher): load, validate
 * the whole config, and either apply it atomically or reject it with every issue while the last
 * good config keeps serving. Applies run one at a time in arrival order, so the last request wins.
 */
export class ConfigReloader {
  private queue: Promise<unknown> = Promise.resolve();
  private activeInfo: ActiveConfigInfo | undefined;
  private lastInfo: LastApplyInfo | undefined;
  private closed = false;

  constructor(private readonly opts: ConfigReloaderOptions) {}

  get active(): ActiveConfigInfo | undefined {
    return this.activeInfo;
  }

  get last(): LastApplyInfo | undefined {
    return this.lastInfo;
  }

  /** Never rejects for a bad config (that is an outcome); rejects only once closed. */
  apply(source: ConfigSource, trigger: ApplyTrigger): Promise<ApplyOutcome> {
    const next = this.queue.then(() => this.applyNow(source, trigger));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Refuses further applies and waits for the one in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private async applyNow(source: ConfigSource, trigger: ApplyTrigger): Promise<ApplyOutcome> {
    if (this.closed) throw new TelemuxError('RUNTIME_CLOSED', 'Telemux is shutting down; config not applied');
    const { metrics: m, logger, clock } = this.opts;
    const loaded = await source.load();
    const compiled = compileConfig(loaded.documents, { adapters: this.opts.adapters, defaultNamespace: this.opts.defaultNamespace });
    const all = [...loaded.issues, ...compiled.issues];
    const warnings = all.filter((i) => i.severity === 'warning');
    let errors = all.filter((i) => i.severity === 'error');
    let summary: ApplySummary | undefined;
    if (errors.length === 0 && compiled.snapshot) {
      try {
        summary = await this.opts.runtime.apply(compiled.snapshot);
      } catch (e) {
        if (!(e instanceof HandlerBuildError)) throw e;
        const at = compiled.snapshot.handlers.get(e.handler)?.at ?? { file: source.description, line: 1, col: 1 };
        errors = [issue('error', at, '', e.message, e.code)];
      }
    }
    m.configIssues.set({ severity: 'error' }, errors.length);
    m.configIssues.set({ severity: 'warning' }, warnings.length);
    const at = clock.now();
    this.lastInfo = { at, trigger, description: source.description, applied: summary !== undefined, errors: errors.length, warnings: warnings.length };
    m.configLastApplySuccess.set(summary ? 1 : 0);
    m.configLastApplyTime.set(at / 1000);
    for (const w of warnings) logger.warn('config warning', { issue: formatConfigIssue(w) });
    if (!summary || !compiled.snapshot) {
      m.configApplies.inc({ result: 'rejected' });
      m.mixer.configRefused(compiled.tally);
      // At startup the caller prints the errors and exits; logging them too would say it twice.
      if (trigger !== 'startup') for (const e of errors) logger.warn('config error', { issue: formatConfigIssue(e) });
      logger.warn('config rejected', { trigger, source: source.description, errors: errors.length, keeping: this.activeInfo?.hash.slice(0, 12) ?? 'none' });
      return { applied: false, issues: [...errors, ...warnings] };
    }
    m.configApplies.inc({ result: 'applied' });
    m.mixer.configApplied(compiled.tally);
    const snapshot = compiled.snapshot;
    this.activeInfo = { hash: snapshot.hash, counts: snapshot.counts, origin: source.origin, description: source.description, files: source.files(), trigger, appliedAt: at };
    const detail = (['created', 'changed', 'removed'] as const)
      .filter((k) => summary[k].length > 0)
      .map((k) => `${k}: ${summary[k].join(', ')}`)
      .join('; ');
    logger.info('config applied', {
      trigger,
      source: source.description,
      hash: snapshot.hash.slice(0, 12),
      created: summary.created.length,
      changed: summary.changed.length,
      unchanged: summary.unchanged.length,
      removed: summary.removed.length,
      detail: detail || undefined,
    });
    return { applied: true, summary, warnings };
  }
}

