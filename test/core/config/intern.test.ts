import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { internString, internStrings } from '../../../src/core/config/intern.js';

describe('internStrings', () => {
  it('leaves parsed config data equal to what the parser produced, strings, numbers, nulls and nesting alike', () => {
    const text = [
      'metadata: {name: requestcount, namespace: istio-system}',
      'spec:',
      '  value: "1"',
      '  dimensions: {reporter: conditional((context.reporter.kind | "inbound") == "outbound", "source", "destination"), code: response.code | 200}',
      '  list: [a, 1, 2.5, true, null, [nested, {deep: "ünïcode ✓"}]]',
      '  "12": index-like key',
      '',
    ].join('\n');
    const parsed = parseDocument(text).toJS() as unknown;
    const expected = structuredClone(parsed);
    expect(internStrings(parsed)).toBe(parsed);
    expect(parsed).toStrictEqual(expected);
  });

  it('keeps an own __proto__ key an own value without touching the prototype', () => {
    const data = JSON.parse('{"__proto__": "text", "inner": {"__proto__": {"polluted": "yes"}}}') as Record<string, unknown>;
    internStrings(data);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toBe('text');
    const inner = data['inner'] as Record<string, unknown>;
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect((Object.getOwnPropertyDescriptor(inner, '__proto__')?.value as Record<string, unknown>)['polluted']).toBe('yes');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('leaves objects other than plain objects and arrays alone', () => {
    const when = new Date(0);
    const m = new Map([['k', 'v']]);
    const data = { when, m };
    internStrings(data);
    expect(data.when).toBe(when);
    expect(data.m.get('k')).toBe('v');
  });

  it('returns a string equal to its argument, for names built from parts and for index-like strings', () => {
    const ns = 'istio-system';
    expect(internString(`requestcount.instance.${ns}`)).toBe('requestcount.instance.istio-system');
    expect(internString('12')).toBe('12');
    expect(internString('')).toBe('');
    expect(internString('__proto__')).toBe('__proto__');
  });
});
