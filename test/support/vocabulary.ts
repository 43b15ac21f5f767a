import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AttributeManifest, type AttributeInfo } from '../../src/core/attributes/manifest.js';
import { valueTypeFromName } from '../../src/core/attributes/value-type.js';

export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** The 90 attributes of the Istio 1.4 default manifests, from the shared TSV. */
export function istioVocabulary(): AttributeInfo[] {
  const lines = readFileSync(`${SHARED_DATA}mixer-attribute-vocabulary.tsv`, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [name, typeName, description] = line.split('\t') as [string, string, string];
    const type = valueTypeFromName(typeName);
    if (type === undefined) throw new Error(`bad type ${typeName}`);
    return { name, type, description };
  });
}

export function istioManifest(): AttributeManifest {
  return new AttributeManifest(istioVocabulary());
}
