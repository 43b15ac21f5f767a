// Regenerates src/core/attributes/global-dictionary.ts from global-dictionary.txt (one word a line).
import { readFileSync, writeFileSync } from 'node:fs';

const dir = new URL('../src/core/attributes/', import.meta.url);
const words = readFileSync(new URL('global-dictionary.txt', dir), 'utf8').split('\n');
if (words.at(-1) === '') words.pop();
const header = [
  '// The Mixer v1 global attribute dictionary (istio/api mixer/v1/global_dictionary.yaml, release-1.4),',
  "// in its raw wire spelling: entries keep YAML quotes (index 94 is '200' with the quotes) because Envoy",
  '// and Mixer both build the list from the raw lines. Index = position. Generated from',
  '// global-dictionary.txt by scripts/gen-dictionary.mjs; never reorder.',
];
const body = words.map((w) => `  ${JSON.stringify(w)},`).join('\n');
writeFileSync(new URL('global-dictionary.ts', dir), `${header.join('\n')}\nexport const GLOBAL_DICTIONARY: readonly string[] = Object.freeze([\n${body}\n]);\n`);
