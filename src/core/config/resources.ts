import type { ConfigIssue } from '../errors.js';
import { type ConfigDocument, type ConfigPath, formatPath, issue } from './document.js';
import { MIXER_ADAPTERS, MIXER_TEMPLATES } from './mixer-kinds.js';
import { internString } from './intern.js';
import { isRecord, type Report } from './spec-reader.js';

export const API_VERSION = 'config.istio.io/v1alpha2';

export type ResourceKind = 'attributemanifest' | 'handler' | 'instance' | 'rule';

/** A config object after envelope checks: `<name>.<kind>.<namespace>` is its canonical name. */
export interface Resource {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly namespace: string;
  readonly fqn: string;
  readonly spec: Record<string, unknown>;
  readonly doc: ConfigDocument;
  /** Path of this resource's `spec` inside its document. */
  readonly specPath: ConfigPath;
  /**
   * For an old-style resource (spec §5.5), the adapter or template its `kind` named: `kind:
   * prometheus` is a handler and `kind: metric` an instance, and the whole `spec` is their params.
   */
  readonly oldStyle?: string;
}

const KINDS: ReadonlySet<string> = new Set(['attributemanifest', 'handler', 'instance', 'rule']);

/** Descriptors of out-of-process adapters and templates: Telemux runs none, so a config may hold them. */
const IGNORED_KINDS: ReadonlySet<string> = new Set(['adapter', 'template']);

/** Builds a reporter for one document that records issues against `file:line:col`. */
export function reporterFor(doc: ConfigDocument, issues: ConfigIssue[], severity: 'error' | 'warning' = 'error'): Report {
  return (path, message, code, focus) => issues.push(issue(severity, doc.positionOf(path, focus), formatPath(path), message, code));
}

export function readResources(documents: readonly ConfigDocument[], defaultNamespace: string, issues: ConfigIssue[]): Resource[] {
  const out: Resource[] = [];
  const seen = new Map<string, Resource>();
  for (const doc of documents) {
    const items: [unknown, ConfigPath][] = [];
    // `kind: List` wrappers (kubectl get -o yaml) hold resources under `items`.
    if (isRecord(doc.data) && doc.data['kind'] === 'List' && Array.isArray(doc.data['items'])) {
      doc.data['items'].forEach((it, i) => items.push([it, ['items', i]]));
    } else {
      items.push([doc.data, []]);
    }
    for (const [data, base] of items) {
      const r = readOne(doc, data, base, defaultNamespace, issues);
      if (!r) continue;
      const prev = seen.get(r.fqn);
      if (prev) {
        const at = prev.doc.positionOf(prev.specPath.slice(0, -1));
        reporterFor(doc, issues)([...base, 'metadata', 'name'], `duplicate ${r.kind} '${r.fqn}' (first defined at ${at.file}:${at.line}:${at.col})`, 'CFG_DUPLICATE');
        continue;
      }
      seen.set(r.fqn, r);
      out.push(r);
    }
  }
  return out;
}

function readOne(doc: ConfigDocument, data: unknown, base: ConfigPath, defaultNamespace: string, issues: ConfigIssue[]): Resource | undefined {
  const report = reporterFor(doc, issues);
  if (!isRecord(data)) {
    report(base, 'a config document must be a map with apiVersion, kind, metadata and spec', 'CFG_ENVELOPE');
    return undefined;
  }
  const kind = data['kind'];
  if (typeof kind !== 'string' || kind === '') {
    report([...base, 'kind'], "missing 'kind'", 'CFG_ENVELOPE');
    return undefined;
  }
  const oldStyle = MIXER_ADAPTERS.has(kind) ? 'handler' : MIXER_TEMPLATES.has(kind) ? 'instance' : undefined;
  if (!KINDS.has(kind) && !oldStyle) {
    if (IGNORED_KINDS.has(kind)) {
      reporterFor(doc, issues, 'warning')([...base, 'kind'], `kind '${kind}' describes an out-of-process adapter or template, which Telemux does not run; it is ignored`, 'CFG_UNSUPPORTED');
    } else {
      report([...base, 'kind'], `unknown kind '${kind}' (expected one of attributemanifest, handler, instance, rule, or an old-style adapter or template kind such as prometheus or metric)`, 'CFG_UNKNOWN_KIND');
    }
    return undefined;
  }
  const apiVersion = data['apiVersion'];
  if (apiVersion !== undefined && apiVersion !== API_VERSION) {
    report([...base, 'apiVersion'], `apiVersion must be '${API_VERSION}', got '${String(apiVersion)}'`, 'CFG_ENVELOPE');
  }
  const meta = data['metadata'];
  if (!isRecord(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    report([...base, 'metadata'], "missing 'metadata.name'", 'CFG_ENVELOPE');
    return undefined;
  }
  const name = meta['name'];
  const ns = meta['namespace'];
  if (ns !== undefined && (typeof ns !== 'string' || ns === '')) {
    report([...base, 'metadata', 'namespace'], "'metadata.namespace' must be a non-empty string", 'CFG_ENVELOPE');
    return undefined;
  }
  const namespace = ns ?? defaultNamespace;
  const spec = data['spec'] ?? {};
  if (!isRecord(spec)) {
    report([...base, 'spec'], "'spec' must be a map", 'CFG_ENVELOPE');
    return undefined;
  }
  const fqn = internString(`${name}.${kind}.${namespace}`);
  const specPath: ConfigPath = [...base, 'spec'];
  if (oldStyle) return { kind: oldStyle, name, namespace, fqn, spec, doc, specPath, oldStyle: kind };
  return { kind: kind as ResourceKind, name, namespace, fqn, spec, doc, specPath };
}

/**
 * Resolves a handler or instance reference written in a rule (spec §5.3), relative to the rule's
 * namespace. Returns the candidate FQNs in the order Mixer tries them.
 */
export function candidateNames(ref: string, kind: 'handler' | 'instance', ruleNamespace: string): string[] {
  const dots = ref.split('.').length - 1;
  if (dots === 0) return [`${ref}.${kind}.${ruleNamespace}`];
  if (dots === 1) {
    const [a, b] = ref.split('.') as [string, string];
    return [`${ref}.${ruleNamespace}`, `${a}.${kind}.${b}`];
  }
  return [ref];
}
