import { createHash } from 'node:crypto';
import type { AnyAdapter, DimensionSpec, InstanceSpec } from '../adapter.js';
import { AttributeManifest, type AttributeInfo } from '../attributes/manifest.js';
import { ValueType, valueTypeFromName, valueTypeName } from '../attributes/value-type.js';
import type { ConfigIssue, SourcePosition } from '../errors.js';
import { compileExpression, type CompiledExpression } from '../expr/index.js';
import { suggestName } from '../expr/suggest.js';
import { MetricInstanceBuilder } from '../templates/metric.js';
import type { ConfigDocument, ConfigPath } from './document.js';
import { METRIC_TEMPLATE, MIXER_ADAPTERS, MIXER_TEMPLATES } from './mixer-kinds.js';
import { candidateNames, readResources, reporterFor, type Resource } from './resources.js';
import { describe, isRecord, type Report, SpecReader } from './spec-reader.js';

export const DEFAULT_NAMESPACE = 'istio-system';

/** A handler as configured: what the runtime needs to build it, and its identity for reuse. */
export interface HandlerPlan {
  readonly name: string;
  readonly adapter: AnyAdapter;
  readonly config: unknown;
  readonly instances: readonly InstanceSpec[];
  /** Equal signatures mean an existing handler can be kept across a reload (spec §8.3). */
  readonly signature: string;
  /** Where the handler resource starts, so a failure to build it can point at the operator's YAML. */
  readonly at?: SourcePosition;
  /**
   * The name Mixer gave the handler in its self-metrics' `handler` label: `<name>.<namespace>`
   * for a `kind: handler`, the FQN for an old-style adapter kind (spec §5.5), as Mixer's config
   * loader named them.
   */
  readonly mixerName: string;
}

export interface RuleAction {
  readonly handler: string;
  readonly builders: readonly MetricInstanceBuilder[];
}

export interface CompiledRule {
  readonly name: string;
  readonly namespace: string;
  /** Absent: the rule matches everything. */
  readonly match: CompiledExpression | undefined;
  readonly actions: readonly RuleAction[];
}

/** An immutable, fully validated configuration. */
export interface ConfigSnapshot {
  readonly manifest: AttributeManifest;
  readonly handlers: ReadonlyMap<string, HandlerPlan>;
  readonly rules: readonly CompiledRule[];
  readonly defaultNamespace: string;
  /** Per manifest slot: 1 when some expression, namespace resolution or the Report path (built-in attributes) reads the attribute. */
  readonly referenced: Uint8Array;
  /** sha256 of the canonical resource data: the same config always hashes the same. */
  readonly hash: string;
  readonly counts: { readonly attributes: number; readonly handlers: number; readonly instances: number; readonly rules: number };
}

export interface CompileOptions {
  readonly adapters: ReadonlyMap<string, AnyAdapter>;
  readonly defaultNamespace?: string;
}

export interface CompileResult {
  /** Present only when there is no error (warnings allowed). */
  readonly snapshot: ConfigSnapshot | undefined;
  readonly issues: readonly ConfigIssue[];
  readonly tally: ConfigTally;
}

/**
 * What Mixer's `mixer_config_*` gauges counted (spec §8.5), as Telemux loads a config: resources of
 * adapters and templates Telemux does not run are skipped with a warning and not counted.
 */
export interface ConfigTally {
  /** Distinct attributes the attribute manifests declare. */
  readonly attributes: number;
  /** Handlers whose adapter Telemux runs, used by a rule or not. */
  readonly handlers: number;
  /** Metric instances loaded. */
  readonly instances: number;
  /** Instances refused for an error. */
  readonly instanceErrors: number;
  /** Rules with at least one action Telemux runs. */
  readonly rules: number;
  /** Rules refused for an error (a match that fails to compile or to type as BOOL included). */
  readonly ruleErrors: number;
}

/** The attributes dispatch reads to find a Report's identity namespace (spec §5.4). */
export const IDENTITY_ATTRIBUTES = ['context.reporter.kind', 'destination.namespace', 'source.namespace'] as const;

/**
 * The identity attributes, typed as the standard vocabulary types them (spec §3). Mixer read them
 * from every Report whatever the manifests declared, so they are in every config's vocabulary:
 * without a manifest declaring them, namespaced rules would never apply. A manifest may declare
 * them again, as STRING.
 */
const IDENTITY_ATTRIBUTE_INFO: readonly AttributeInfo[] = [
  { name: 'context.reporter.kind', type: ValueType.STRING, description: 'inbound or outbound: which side of the request reported it (read for rule scoping).' },
  { name: 'destination.namespace', type: ValueType.STRING, description: 'The namespace of the destination workload (read for rule scoping).' },
  { name: 'source.namespace', type: ValueType.STRING, description: 'The namespace of the source workload (read for rule scoping).' },
];

/** The tenant whose bearer token sent the Report (see --tenants); absent without a tenants file. */
export const TENANT_ATTRIBUTE = 'context.tenant';

/**
 * Attributes Telemux itself sets on every attribute set, in every config's vocabulary whatever the
 * manifests declare. The Report path overwrites them, so a sidecar cannot supply their values.
 */
export const BUILTIN_ATTRIBUTES: readonly AttributeInfo[] = [
  { name: TENANT_ATTRIBUTE, type: ValueType.STRING, description: 'The tenant of the Report, from its bearer token (Telemux built-in).' },
];

interface InstanceEntry {
  readonly resource: Resource;
  /** Also present for a broken instance (failed dimensions typed UNSPECIFIED) so handlers still validate. */
  readonly spec: InstanceSpec;
  /** Absent when some expression of the instance failed (already reported). */
  readonly builder: MetricInstanceBuilder | undefined;
}

export function compileConfig(documents: readonly ConfigDocument[], opts: CompileOptions): CompileResult {
  const defaultNamespace = opts.defaultNamespace ?? DEFAULT_NAMESPACE;
  const issues: ConfigIssue[] = [];
  const resources = readResources(documents, defaultNamespace, issues);
  const byKind = (k: Resource['kind']): Resource[] => resources.filter((r) => r.kind === k);

  const declared = readManifests(byKind('attributemanifest'), issues);
  const manifest = new AttributeManifest([...BUILTIN_ATTRIBUTES, ...IDENTITY_ATTRIBUTE_INFO, ...declared]);
  const newErrors = (before: number): boolean => issues.slice(before).some((i) => i.severity === 'error');
  const referenced = new Uint8Array(manifest.size);
  for (const name of [...IDENTITY_ATTRIBUTES, ...BUILTIN_ATTRIBUTES.map((a) => a.name)]) {
    const slot = manifest.slotOf(name);
    if (slot >= 0) referenced[slot] = 1;
  }
  const compile = expressionCompiler(manifest, referenced);

  const instances = new Map<string, InstanceEntry>();
  const skippedInstances = new Set<string>();
  let instanceErrors = 0;
  for (const r of byKind('instance')) {
    const before = issues.length;
    const built = compileInstance(r, compile, reporterFor(r.doc, issues), reporterFor(r.doc, issues, 'warning'));
    if (newErrors(before)) instanceErrors++;
    if (built) instances.set(r.fqn, { resource: r, ...built });
    else skippedInstances.add(r.fqn);
  }

  const handlerResources = new Map(byKind('handler').map((r) => [r.fqn, r]));
  const handlerAdapters = new Map<string, AnyAdapter>();
  for (const r of handlerResources.values()) {
    const a = resolveAdapter(r, opts.adapters, reporterFor(r.doc, issues), reporterFor(r.doc, issues, 'warning'));
    if (a) handlerAdapters.set(r.fqn, a);
  }

  const rules: CompiledRule[] = [];
  const bound = new Map<string, Map<string, InstanceSpec>>();
  const matchCache = new Map<string, CompiledExpression>();
  let ruleErrors = 0;
  for (const r of byKind('rule')) {
    const rule = compileRule(r, { compile, matchCache, instances, skippedInstances, handlerResources, handlerAdapters, bound, issues });
    if (rule) rules.push(rule);
    else ruleErrors++;
  }

  const handlers = new Map<string, HandlerPlan>();
  const parsed: ParsedPlan[] = [];
  for (const [fqn, r] of handlerResources) {
    const adapter = handlerAdapters.get(fqn);
    const used = bound.get(fqn);
    if (!adapter) continue;
    if (!used) {
      reporterFor(r.doc, issues, 'warning')(r.specPath.slice(0, -1), `handler '${fqn}' is not used by any rule and will not be built`, 'CFG_UNUSED');
      continue;
    }
    const specs = [...used.values()];
    const report = reporterFor(r.doc, issues);
    const { params, paramsPath } = handlerParams(r, report);
    const before = issues.length;
    const warn = reporterFor(r.doc, issues, 'warning');
    const config = adapter.parseConfig(params, specs, {
      issue: (path, message, code, focus) => report([...paramsPath, ...path], message, code ?? 'ADAPTER_CONFIG', focus),
      warn: (path, message, code, focus) => warn([...paramsPath, ...path], message, code ?? 'ADAPTER_CONFIG', focus),
    });
    if (config === undefined && !issues.slice(before).some((i) => i.severity === 'error')) {
      report(paramsPath, `adapter '${adapter.name}' rejected its params`, 'ADAPTER_CONFIG');
    }
    if (config === undefined) continue;
    const plan: HandlerPlan = {
      name: fqn,
      adapter,
      config,
      instances: specs,
      signature: signatureOf(adapter.name, params, [...used.keys()].sort().map((k) => instances.get(k)!)),
      at: r.doc.positionOf(r.specPath.slice(0, -1)),
      mixerName: r.oldStyle === undefined ? `${r.name}.${r.namespace}` : fqn,
    };
    handlers.set(fqn, plan);
    parsed.push({ plan, report: (path, message, code) => report([...paramsPath, ...path], message, code) });
  }

  checkAcrossHandlers(parsed);

  const hasErrors = issues.some((i) => i.severity === 'error');
  const routed = rules.map((rule) => ({ ...rule, actions: rule.actions.filter((a) => handlers.has(a.handler)) })).filter((rule) => rule.actions.length > 0);
  const tally: ConfigTally = {
    attributes: new Set(declared.map((a) => a.name)).size,
    handlers: handlerAdapters.size,
    instances: instances.size,
    instanceErrors,
    rules: routed.length,
    ruleErrors,
  };
  const snapshot: ConfigSnapshot | undefined = hasErrors
    ? undefined
    : {
        manifest,
        handlers,
        rules: routed,
        defaultNamespace,
        referenced,
        hash: sha256(canonical(resources.map((r) => [r.fqn, r.spec]))),
        counts: { attributes: manifest.size, handlers: handlers.size, instances: instances.size, rules: rules.length },
      };
  return { snapshot, issues: sortIssues(issues), tally };
}

/** A handler whose params parsed, and where to report about its params. */
interface ParsedPlan {
  readonly plan: HandlerPlan;
  readonly report: Report;
}

/**
 * Gives each adapter all of its parsed handlers at once. An error rejects the whole config like
 * any other, so a conflict between two handlers can never leave one of them half-applied.
 */
function checkAcrossHandlers(parsed: readonly ParsedPlan[]): void {
  const byAdapter = new Map<AnyAdapter, ParsedPlan[]>();
  for (const p of parsed) {
    const list = byAdapter.get(p.plan.adapter);
    if (list) list.push(p);
    else byAdapter.set(p.plan.adapter, [p]);
  }
  for (const [adapter, list] of byAdapter) {
    adapter.checkAcrossHandlers?.(
      list.map(({ plan }) => ({ name: plan.name, config: plan.config })),
      (handlerIndex, path, message, code) => {
        const target = list[handlerIndex];
        // An adapter bug, not the operator's: dropping the report would let a bad config through.
        if (target === undefined) throw new RangeError(`adapter '${adapter.name}' reported on handler ${handlerIndex} of ${list.length}`);
        target.report(path, message, code ?? 'ADAPTER_CONFIG');
      },
    );
  }
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.at.file !== b.at.file ? (a.at.file < b.at.file ? -1 : 1) : a.at.line - b.at.line || a.at.col - b.at.col));
}

function readManifests(resources: readonly Resource[], issues: ConfigIssue[]): AttributeInfo[] {
  const out: AttributeInfo[] = [];
  for (const r of resources) {
    const report = reporterFor(r.doc, issues);
    const reader = new SpecReader(r.spec, r.specPath, report);
    reader.rejectUnknown(['revision', 'name', 'attributes'], 'an attributemanifest');
    const attrs = reader.raw('attributes');
    if (attrs === undefined || attrs === null) continue;
    if (!isRecord(attrs)) {
      report(reader.pathOf('attributes'), `'attributes' must be a map of attribute name to {valueType}, got ${describe(attrs)}`, 'CFG_FIELD');
      continue;
    }
    for (const [name, info] of Object.entries(attrs)) {
      const path: ConfigPath = [...reader.pathOf('attributes'), name];
      if (!isRecord(info)) {
        report(path, `attribute '${name}' must be a map with 'valueType'`, 'CFG_FIELD');
        continue;
      }
      const ir = new SpecReader(info, path, report);
      ir.rejectUnknown(['value_type', 'description'], `attribute '${name}'`);
      const typeName = ir.string('value_type', { required: true });
      if (typeName === undefined) continue;
      const type = valueTypeFromName(typeName);
      if (type === undefined || type === ValueType.VALUE_TYPE_UNSPECIFIED) {
        const known = Object.values(ValueType).filter((v): v is string => typeof v === 'string' && v !== 'VALUE_TYPE_UNSPECIFIED');
        report(ir.pathOf('value_type'), `unknown valueType '${typeName}'${suggest(typeName, known)} (one of ${known.join(', ')})`, 'CFG_VALUE_TYPE');
        continue;
      }
      const builtin = BUILTIN_ATTRIBUTES.find((b) => b.name === name);
      if (builtin && builtin.type !== type) {
        report(ir.pathOf('value_type'), `attribute '${name}' is built into Telemux as ${valueTypeName(builtin.type)}; declare it as ${valueTypeName(builtin.type)} or not at all`, 'CFG_VALUE_TYPE');
        continue;
      }
      const identity = IDENTITY_ATTRIBUTE_INFO.find((b) => b.name === name);
      if (identity && identity.type !== type) {
        report(ir.pathOf('value_type'), `attribute '${name}' scopes rules by namespace and is read as ${valueTypeName(identity.type)}; declare it as ${valueTypeName(identity.type)} or not at all`, 'CFG_VALUE_TYPE');
        continue;
      }
      out.push({ name, type, description: typeof info['description'] === 'string' ? info['description'] : '' });
    }
  }
  return out;
}

type ExprCompiler = (text: string, path: ConfigPath, report: Report) => CompiledExpression | undefined;

function expressionCompiler(manifest: AttributeManifest, referenced: Uint8Array): ExprCompiler {
  return (text, path, report) => {
    const result = compileExpression(text, manifest);
    if (!result.ok) {
      for (const d of result.errors) report(path, `${d.message} (in expression \`${text}\`)`, d.code, d.start);
      return undefined;
    }
    for (const name of result.expr.attributes) {
      const slot = manifest.slotOf(name);
      if (slot >= 0) referenced[slot] = 1;
    }
    return result.expr;
  };
}

/** Where a handler's adapter params are: under `params`, or the whole spec of an old-style handler. */
function handlerParams(r: Resource, report: Report): { params: unknown; paramsPath: ConfigPath } {
  if (r.oldStyle !== undefined) return { params: r.spec, paramsPath: r.specPath };
  const reader = new SpecReader(r.spec, r.specPath, report);
  reader.rejectUnknown(['name', 'compiled_adapter', 'adapter', 'params', 'connection'], 'a handler');
  return { params: reader.raw('params') ?? {}, paramsPath: reader.pathOf('params') };
}

/**
 * The template or adapter a resource names, and where: its old-style `kind` (spec §5.5), else
 * `compiled` (`compiledTemplate`, `compiledAdapter`), else `outOfProcess` (`template`, `adapter`),
 * which names an out-of-process one.
 */
function namedPlugin(r: Resource, reader: SpecReader, compiled: string, outOfProcess: string): { name: string | undefined; path: ConfigPath; outOfProcess: boolean } {
  if (r.oldStyle !== undefined) return { name: r.oldStyle, path: [...r.specPath.slice(0, -1), 'kind'], outOfProcess: false };
  const field = reader.keyOf(compiled) ? compiled : outOfProcess;
  return { name: reader.string(field), path: reader.pathOf(field), outOfProcess: field === outOfProcess };
}

/**
 * An instance's metric params and where they are: under `params`, or the whole spec of an
 * old-style `kind: metric`. Undefined for any other template (reported).
 */
function metricParams(r: Resource, report: Report, warn: Report): { raw: unknown; path: ConfigPath } | undefined {
  const reader = new SpecReader(r.spec, r.specPath, report);
  if (r.oldStyle === undefined) reader.rejectUnknown(['name', 'compiled_template', 'template', 'params', 'attribute_bindings'], 'an instance');
  const template = namedPlugin(r, reader, 'compiled_template', 'template');
  if (template.name === undefined) {
    report(r.specPath, "missing 'compiledTemplate' (Telemux supports 'metric')", 'CFG_FIELD');
    return undefined;
  }
  if (template.name !== METRIC_TEMPLATE) {
    if (MIXER_TEMPLATES.has(template.name)) {
      warn(template.path, `template '${template.name}' is not supported by Telemux; instance '${r.fqn}' is ignored`, 'CFG_UNSUPPORTED');
    } else if (template.outOfProcess) {
      // `template` names a `kind: template` descriptor of an out-of-process adapter, a Mixer
      // feature Telemux leaves out like those descriptors: a full Mixer config must still load.
      warn(template.path, `out-of-process template '${template.name}' is not supported by Telemux; instance '${r.fqn}' is ignored`, 'CFG_UNSUPPORTED');
    } else {
      report(template.path, `unknown template '${template.name}' (Telemux supports 'metric')`, 'CFG_UNKNOWN_TEMPLATE');
    }
    return undefined;
  }
  if (r.oldStyle !== undefined) return { raw: r.spec, path: r.specPath };
  return { raw: reader.raw('params') ?? {}, path: reader.pathOf('params') };
}

/** Undefined for an instance of an unsupported or unknown template; else its spec, and a builder if it compiled. */
function compileInstance(r: Resource, compile: ExprCompiler, report: Report, warn: Report): { spec: InstanceSpec; builder: MetricInstanceBuilder | undefined } | undefined {
  const params = metricParams(r, report, warn);
  if (params === undefined) return undefined;
  if (!isRecord(params.raw)) {
    report(params.path, `'params' must be a map, got ${describe(params.raw)}`, 'CFG_FIELD');
    return undefined;
  }
  const p = new SpecReader(params.raw, params.path, report);
  p.rejectUnknown(['value', 'dimensions', 'monitored_resource_type', 'monitored_resource_dimensions'], 'metric params');
  let ok = true;
  const one = (field: string): CompiledExpression | undefined => {
    const text = p.string(field);
    if (text === undefined || text.trim() === '') return undefined;
    const e = compile(text, p.pathOf(field), report);
    if (!e) ok = false;
    return e;
  };
  const many = (field: string): [DimensionSpec[], CompiledExpression[]] => {
    const specs: DimensionSpec[] = [];
    const exprs: CompiledExpression[] = [];
    for (const [name, text] of p.stringMap(field)) {
      const e = compile(text, [...p.pathOf(field), name], report);
      specs.push({ name, type: e?.type ?? ValueType.VALUE_TYPE_UNSPECIFIED });
      if (e) exprs.push(e);
      else ok = false;
    }
    return [specs, exprs];
  };
  const value = one('value');
  const [dimensions, dimExprs] = many('dimensions');
  const mrt = one('monitored_resource_type');
  const [mrDims, mrExprs] = many('monitored_resource_dimensions');
  if (mrt && mrt.type !== ValueType.STRING) {
    report(p.pathOf('monitored_resource_type'), `monitored_resource_type must be a STRING expression, got ${valueTypeName(mrt.type)} (write a literal as '"UNSPECIFIED"')`, 'EXPR_TYPE');
    ok = false;
  }
  const spec: InstanceSpec = {
    name: r.fqn,
    template: METRIC_TEMPLATE,
    valueType: value?.type ?? ValueType.VALUE_TYPE_UNSPECIFIED,
    dimensions,
    monitoredResourceDimensions: mrDims,
  };
  return { spec, builder: ok ? new MetricInstanceBuilder(spec, value, dimExprs, mrt, mrExprs) : undefined };
}

function resolveAdapter(r: Resource, adapters: ReadonlyMap<string, AnyAdapter>, report: Report, warn: Report): AnyAdapter | undefined {
  const { name, path, outOfProcess } = namedPlugin(r, new SpecReader(r.spec, r.specPath, report), 'compiled_adapter', 'adapter');
  if (name === undefined) {
    report(r.specPath, `missing 'compiledAdapter' (one of ${[...adapters.keys()].join(', ')})`, 'CFG_FIELD');
    return undefined;
  }
  const adapter = adapters.get(name);
  if (adapter) return adapter;
  if (MIXER_ADAPTERS.has(name)) {
    warn(path, `adapter '${name}' is not supported by Telemux; handler '${r.fqn}' and the rule actions using it are ignored`, 'CFG_UNSUPPORTED');
  } else if (outOfProcess) {
    // `adapter` (with `connection`) names an out-of-process adapter, reached over gRPC by Mixer;
    // only `compiledAdapter` names one of Telemux's, so a typo there stays an error.
    warn(path, `out-of-process adapter '${name}' is not supported by Telemux; handler '${r.fqn}' and the rule actions using it are ignored`, 'CFG_UNSUPPORTED');
  } else {
    report(path, `unknown adapter '${name}'${suggest(name, [...adapters.keys()])} (available: ${[...adapters.keys()].join(', ')})`, 'CFG_UNKNOWN_ADAPTER');
  }
  return undefined;
}

interface RuleContext {
  readonly compile: ExprCompiler;
  readonly matchCache: Map<string, CompiledExpression>;
  readonly instances: ReadonlyMap<string, InstanceEntry>;
  readonly skippedInstances: ReadonlySet<string>;
  readonly handlerResources: ReadonlyMap<string, Resource>;
  readonly handlerAdapters: ReadonlyMap<string, AnyAdapter>;
  readonly bound: Map<string, Map<string, InstanceSpec>>;
  readonly issues: ConfigIssue[];
}

function compileRule(r: Resource, ctx: RuleContext): CompiledRule | undefined {
  const report = reporterFor(r.doc, ctx.issues);
  const warn = reporterFor(r.doc, ctx.issues, 'warning');
  const reader = new SpecReader(r.spec, r.specPath, report);
  reader.rejectUnknown(['match', 'actions', 'request_header_operations', 'response_header_operations', 'sampling'], 'a rule');
  let match: CompiledExpression | undefined;
  const text = reader.string('match');
  let ok = true;
  if (text !== undefined && text.trim() !== '' && text.trim() !== 'true') {
    match = ctx.matchCache.get(text) ?? ctx.compile(text, reader.pathOf('match'), report);
    if (!match) ok = false;
    else if (match.type !== ValueType.BOOL) {
      report(reader.pathOf('match'), `match must be a BOOL expression, got ${valueTypeName(match.type)}`, 'CFG_MATCH_TYPE');
      ok = false;
    } else ctx.matchCache.set(text, match);
  }
  const actions: RuleAction[] = [];
  reader.array('actions').forEach((raw, i) => {
    const path: ConfigPath = [...reader.pathOf('actions'), i];
    if (!isRecord(raw)) {
      report(path, `an action must be a map with 'handler' and 'instances', got ${describe(raw)}`, 'CFG_FIELD');
      ok = false;
      return;
    }
    const ar = new SpecReader(raw, path, report);
    ar.rejectUnknown(['handler', 'instances', 'name'], 'a rule action');
    const handlerRef = ar.string('handler', { required: true });
    if (handlerRef === undefined) {
      ok = false;
      return;
    }
    const handlerName = candidateNames(handlerRef, 'handler', r.namespace).find((n) => ctx.handlerResources.has(n));
    if (!handlerName) {
      const known = referenceNames(ctx.handlerResources.keys(), r.namespace);
      report(ar.pathOf('handler'), `handler '${handlerRef}' not found (looked for ${candidateNames(handlerRef, 'handler', r.namespace).join(', ')})${suggest(handlerRef, known)}`, 'CFG_UNRESOLVED_HANDLER');
      ok = false;
      return;
    }
    const adapter = ctx.handlerAdapters.get(handlerName);
    const builders: MetricInstanceBuilder[] = [];
    const specs: InstanceSpec[] = [];
    const seen = new Set<string>();
    ar.array('instances').forEach((ref, j) => {
      const ipath: ConfigPath = [...ar.pathOf('instances'), j];
      if (typeof ref !== 'string') {
        report(ipath, `an instance reference must be a string, got ${describe(ref)}`, 'CFG_FIELD');
        ok = false;
        return;
      }
      const candidates = candidateNames(ref, 'instance', r.namespace);
      const fqn = candidates.find((n) => ctx.instances.has(n) || ctx.skippedInstances.has(n));
      if (!fqn) {
        report(ipath, `instance '${ref}' not found (looked for ${candidates.join(', ')})${suggest(ref, referenceNames(ctx.instances.keys(), r.namespace))}`, 'CFG_UNRESOLVED_INSTANCE');
        ok = false;
        return;
      }
      if (seen.has(fqn)) {
        report(ipath, `instance '${fqn}' is listed twice in this action`, 'CFG_DUPLICATE');
        ok = false;
        return;
      }
      seen.add(fqn);
      const entry = ctx.instances.get(fqn);
      if (!entry || !adapter) return; // unsupported template or adapter: already warned
      if (!adapter.templates.includes(entry.spec.template)) {
        report(ipath, `adapter '${adapter.name}' does not support template '${entry.spec.template}'`, 'CFG_INSTANCE_TEMPLATE');
        ok = false;
        return;
      }
      specs.push(entry.spec);
      if (entry.builder) builders.push(entry.builder);
    });
    if (!adapter) {
      warn(ar.pathOf('handler'), `action skipped: handler '${handlerName}' is not available`, 'CFG_UNSUPPORTED');
      return;
    }
    if (specs.length === 0) return;
    let perHandler = ctx.bound.get(handlerName);
    if (!perHandler) ctx.bound.set(handlerName, (perHandler = new Map()));
    for (const spec of specs) perHandler.set(spec.name, spec);
    if (builders.length > 0) actions.push({ handler: handlerName, builders });
  });
  if (!ok) return undefined;
  return { name: r.fqn, namespace: r.namespace, match, actions };
}

/**
 * Mixer's handler signature (spec §8.3: adapter, params, and each instance's params), plus each
 * instance's inferred types: a manifest change can retype an instance whose text is unchanged,
 * and handlers plan their recording per instance from those types when they are built (a StatsD
 * timer divides a DURATION's nanoseconds into milliseconds), so such a handler must be rebuilt.
 */
function signatureOf(adapterName: string, params: unknown, instances: readonly InstanceEntry[]): string {
  return sha256(canonical([adapterName, params, instances.map((i) => [i.resource.fqn, i.resource.spec, i.spec])]));
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** JSON with object keys sorted, so equal data always serialises the same. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** ` (did you mean 'x'?)` when a known name is close to what was written. */
function suggest(written: string, known: Iterable<string>): string {
  const hit = suggestName(written, known);
  return hit === undefined ? '' : ` (did you mean '${hit}'?)`;
}

/** How a rule in `namespace` would most simply refer to each resource: short name when local. */
function referenceNames(fqns: Iterable<string>, namespace: string): string[] {
  return [...fqns].map((fqn) => (fqn.endsWith(`.${namespace}`) ? fqn.slice(0, fqn.indexOf('.')) : fqn));
}
