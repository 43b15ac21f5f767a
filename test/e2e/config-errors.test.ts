import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../src/adapters/index.js';
import { compileConfig } from '../../src/core/config/compile.js';
import { loadConfigPath } from '../../src/core/config/document.js';
import { formatConfigIssue } from '../../src/core/errors.js';
import { defaultConfigPath } from '../../src/cli/paths.js';

const BROKEN = fileURLToPath(new URL('../fixtures/broken/broken.yaml', import.meta.url));

/** 1-based line and column of the first occurrence of `needle` in the fixture (plus `skip` chars). */
function where(needle: string, skip = 0): string {
  const text = readFileSync(BROKEN, 'utf8');
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`not in fixture: ${needle}`);
  const before = text.slice(0, at + skip);
  const line = before.split('\n').length;
  const col = before.length - before.lastIndexOf('\n');
  return `${BROKEN}:${line}:${col}`;
}

async function check(path: string): Promise<string[]> {
  const loaded = await loadConfigPath(path);
  const compiled = compileConfig(loaded.documents, { adapters: createAdapterInventory().adapters });
  return [...loaded.issues, ...compiled.issues].filter((i) => i.severity === 'error').map(formatConfigIssue);
}

describe('config validation', () => {
  it('accepts the embedded Istio 1.4 default telemetry config without errors', async () => {
    expect(await check(defaultConfigPath())).toEqual([]);
  });

  it('reports every mistake of a broken config as file:line:col: path: message [CODE]', async () => {
    const errors = await check(BROKEN);
    const expectOne = (prefix: string, pattern: RegExp): void => {
      const hit = errors.filter((e) => e.startsWith(`${prefix}: `) && pattern.test(e));
      expect(hit, `${prefix} ${pattern}\nin:\n${errors.join('\n')}`).toHaveLength(1);
    };
    expectOne(where('STRNG'), /spec\.attributes\.request\.host\.valueType: unknown valueType 'STRNG' \(did you mean 'STRING'\?\).*\[CFG_VALUE_TYPE\]$/);
    expectOne(where('source.workload.nam |'), /spec\.params\.dimensions\.source_workload: unknown attribute source\.workload\.nam.*did you mean '?source\.workload\.name'?.*\[EXPR_UNKNOWN_ATTRIBUTE\]$/);
    expectOne(where('response.code == "200"', 'response.code == '.length), /spec\.params\.dimensions\.response_code: .*typeError got STRING, expected INT64.*\[EXPR_TYPE\]$/);
    expectOne(where('HISTOGRAM'), /spec\.params\.metrics\[0\]\.kind: .*HISTOGRAM.*\[PROM_/);
    expectOne(where('prometheusx'), /spec\.actions\[1\]\.handler: handler 'prometheusx' not found.*did you mean 'prometheus'.*\[CFG_UNRESOLVED_HANDLER\]$/);
    expect(errors.length).toBeGreaterThanOrEqual(5);
  });

  it('reports YAML syntax errors with their position', async () => {
    const { parseConfigText } = await import('../../src/core/config/document.js');
    const { issues } = parseConfigText('kind: rule\nmetadata:\n  name: x\n   bad: [\n', 'inline.yaml');
    expect(issues.length).toBeGreaterThan(0);
    expect(formatConfigIssue(issues[0]!)).toMatch(/^inline\.yaml:\d+:\d+: .*\[CFG_YAML\]$/);
  });
});
