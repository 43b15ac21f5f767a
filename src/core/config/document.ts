import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type Scalar } from 'yaml';
import type { ConfigIssue, ErrorCode, SourcePosition } from '../errors.js';
import { internStrings } from './intern.js';

export type ConfigPath = readonly (string | number)[];

/** Which part of the node at a path a problem is about (see {@link ConfigDocument.positionOf}). */
export type Focus = 'key' | number;

/** One YAML document of a config source, with what it takes to point at any of its nodes. */
export class ConfigDocument {
  readonly data: unknown;

  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** The whole source text the document was parsed from (node ranges index into it). */
    private readonly text: string,
  ) {
    this.data = internStrings(doc.toJS({ maxAliasCount: 100 }));
  }

  /**
   * Position of the node at `path`, or of its closest existing ancestor. `focus` says which part:
   * by default the value; `'key'` the key it is written under (a problem with the name itself,
   * such as an unknown field, whose value may start lines further down); a number, a character
   * inside a scalar's value (an expression error's column), mapped back through the scalar's
   * quoting, escapes and line folding so that it lands on the character in the file.
   */
  positionOf(path: ConfigPath, focus?: Focus): SourcePosition {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    let found = true;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) {
          found = false;
          break;
        }
        keyNode = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        keyNode = undefined;
        node = node.items[seg];
      } else {
        found = false;
        break;
      }
    }
    const key = focus === 'key' && found ? keyNode : undefined;
    const target = key?.range ? key : (node as Node | null | undefined)?.range ? (node as Node) : keyNode;
    let at = target?.range?.[0] ?? 0;
    // Offsets point into expressions, which are strings.
    if (typeof focus === 'number' && isScalar(node) && node.range && typeof node.value === 'string') {
      at = scalarSourceOffset(this.text, node.type, node.range[0], node.range[1], node.value, focus);
    }
    const { line, col } = this.lines.linePos(at);
    return { file: this.file, line, col };
  }
}

function isYamlSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * Where the character at `offset` of a scalar's value is in the source text. The value differs
 * from the source by the quotes, `\` escapes and `''` (quoted styles), a block scalar's header and
 * indentation, and line folding (a line break and the next line's indentation read as one space or
 * newline): walk both, matching what the value kept and skipping what YAML dropped.
 */
function scalarSourceOffset(text: string, type: Scalar['type'], start: number, end: number, value: string, offset: number): number {
  const double = type === 'QUOTE_DOUBLE';
  const single = type === 'QUOTE_SINGLE';
  let j = start;
  if (double || single) j++;
  else if (type === 'BLOCK_LITERAL' || type === 'BLOCK_FOLDED') {
    const eol = text.indexOf('\n', start);
    if (eol < 0 || eol >= end) return start;
    j = eol + 1;
  }
  let i = 0;
  while (i < offset && j < end) {
    const v = value[i];
    const c = text[j];
    if (double && c === '\\') {
      const n = text[j + 1];
      if (n === '\n' || n === '\r') {
        // An escaped line break: the break and the next line's indentation leave nothing.
        j += n === '\r' && text[j + 2] === '\n' ? 3 : 2;
        while (text[j] === ' ' || text[j] === '\t') j++;
        continue;
      }
      j += n === 'x' ? 4 : n === 'u' ? 6 : n === 'U' ? 10 : 2;
      i += (value.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
      continue;
    }
    if (single && c === "'" && text[j + 1] === "'") {
      j += 2;
      i++;
    } else if (c === v) {
      i++;
      j++;
    } else if (isYamlSpace(c)) {
      // Folding, indentation or stripped trailing space; a folded break is the value's space.
      if (isYamlSpace(v)) i++;
      j++;
    } else if (isYamlSpace(v)) {
      i++;
    } else {
      j++;
    }
  }
  // Land on the character itself, not on the indentation or escaped line break before it.
  const target = value[offset];
  if (target !== undefined && !isYamlSpace(target)) {
    while (j < end && (isYamlSpace(text[j]) || (double && text[j] === '\\' && (text[j + 1] === '\n' || text[j + 1] === '\r')))) {
      j += text[j] === '\\' ? 2 : 1;
    }
  }
  return j;
}

export interface LoadedSource {
  readonly documents: readonly ConfigDocument[];
  readonly issues: readonly ConfigIssue[];
}

/** Parses one multi-document YAML text; syntax errors become issues with their positions. */
export function parseConfigText(text: string, file: string): LoadedSource {
  const lines = new LineCounter();
  const issues: ConfigIssue[] = [];
  const documents: ConfigDocument[] = [];
  // `merge`: `<<: *anchor` merge keys, which the YAML 1.1 readers of Mixer's file store and of
  // kubectl expand; YAML 1.2 would read `<<` as a field named `<<`.
  for (const doc of parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, merge: true, prettyErrors: false })) {
    if (!('contents' in doc)) continue;
    for (const err of doc.errors) {
      const { line, col } = lines.linePos(err.pos[0]);
      issues.push(issue('error', { file, line, col }, '', err.message.split('\n')[0] ?? err.message, 'CFG_YAML'));
    }
    if (doc.errors.length > 0 || doc.contents === null) continue;
    // A document with nothing in it (a trailing `---`, only comments, `~`) holds no resource, and
    // Mixer's file store skips it: one must not reject a whole config.
    if (isScalar(doc.contents) && doc.contents.value === null) continue;
    try {
      documents.push(new ConfigDocument(file, doc, lines, text));
    } catch (e) {
      // toJS resolves aliases: an unresolved one, or an alias bomb past maxAliasCount, lands here.
      const { line, col } = lines.linePos(doc.contents.range?.[0] ?? 0);
      issues.push(issue('error', { file, line, col }, '', `invalid YAML: ${(e as Error).message}`, 'CFG_YAML'));
    }
  }
  return { documents, issues };
}

/** One config file given as text (the admin API receives files this way), named as its author knows it. */
export interface ConfigText {
  readonly name: string;
  readonly content: string;
}

/** Parses several files as one config source, in the order given. */
export function parseConfigTexts(files: readonly ConfigText[]): LoadedSource {
  const documents: ConfigDocument[] = [];
  const issues: ConfigIssue[] = [];
  for (const f of files) {
    const parsed = parseConfigText(f.content, f.name);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  return { documents, issues };
}

/** Reads a file, or every `*.yaml` / `*.yml` file of a directory tree in name order. */
export async function loadConfigPath(path: string): Promise<LoadedSource> {
  let files: string[];
  try {
    files = await listConfigFiles(path);
  } catch (e) {
    return { documents: [], issues: [issue('error', { file: path, line: 1, col: 1 }, '', `cannot read config: ${(e as Error).message}`, 'CFG_READ')] };
  }
  const texts: ConfigText[] = [];
  for (const f of files) {
    try {
      texts.push({ name: f, content: await readFile(f, 'utf8') });
    } catch (e) {
      // A file can vanish between listing and reading while an editor or a ConfigMap swaps it.
      return { documents: [], issues: [issue('error', { file: f, line: 1, col: 1 }, '', `cannot read config: ${(e as Error).message}`, 'CFG_READ')] };
    }
  }
  return parseConfigTexts(texts);
}

/**
 * The files a config path stands for: the path itself when it is a file, else every `*.yaml` /
 * `*.yml` of the directory tree in name order, skipping dot-entries (editor swap files, and the
 * `..data` bookkeeping of Kubernetes ConfigMap volumes, whose files are reached through symlinks).
 */
export async function listConfigFiles(path: string): Promise<string[]> {
  const out: string[] = [];
  await collectFiles(path, out);
  return out;
}

async function collectFiles(path: string, out: string[]): Promise<void> {
  const st = await stat(path);
  if (!st.isDirectory()) {
    out.push(path);
    return;
  }
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(path, e.name);
    if (e.isDirectory()) await collectFiles(full, out);
    else if (/\.ya?ml$/.test(e.name)) out.push(full);
  }
}

export function issue(severity: 'error' | 'warning', at: SourcePosition, path: string, message: string, code: ErrorCode): ConfigIssue {
  return { severity, at, path, message, code };
}

/** Renders a config path the way operators write it: `spec.params.metrics[2].buckets`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}
