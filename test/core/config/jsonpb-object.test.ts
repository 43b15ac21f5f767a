import { describe, expect, it } from 'vitest';
import { CountingReporter, JsonpbObject, type ConfigPath } from '../../../src/core/adapter.js';

const CODES = { unknownField: 'X_UNKNOWN', duplicateField: 'X_DUPLICATE', field: 'X_FIELD' };

function read(obj: Record<string, unknown>, path: ConfigPath = ['params']) {
  const issues: { path: ConfigPath; message: string; code: string | undefined; warning: boolean }[] = [];
  const o = new JsonpbObject(obj, path, ['flush_duration', 'max_series', 'name'], 'test params', CODES, {
    issue: (p, message, code) => issues.push({ path: p, message, code, warning: false }),
    warn: (p, message, code) => issues.push({ path: p, message, code, warning: true }),
  });
  return { o, issues };
}

describe('JsonpbObject (jsonpb field names for adapter params)', () => {
  it('reads a field under its proto name or its lowerCamelCase name', () => {
    expect(read({ flush_duration: '1s' }).o.value('flush_duration')).toBe('1s');
    const { o, issues } = read({ flushDuration: '2s', maxSeries: 5 });
    expect(issues).toEqual([]);
    expect(o.value('flush_duration')).toBe('2s');
    expect(o.keyOf('max_series')).toBe('maxSeries');
    expect(o.pathOf('max_series')).toEqual(['params', 'maxSeries']);
  });

  it('reports an unknown key at its path, naming the object and the known fields, and reads the rest', () => {
    const { o, issues } = read({ flush_durration: '1s', name: 'a' });
    expect(issues).toEqual([
      {
        path: ['params', 'flush_durration'],
        message: 'unknown field "flush_durration" in test params (known fields: flush_duration, max_series, name)',
        code: 'X_UNKNOWN',
        warning: false,
      },
    ]);
    expect(o.value('name')).toBe('a');
    expect(o.fields.map((f) => f.key)).toEqual(['name']);
  });

  it('reports a field given under both spellings at the second, and keeps the first', () => {
    const { o, issues } = read({ max_series: 1, maxSeries: 2 });
    expect(issues).toEqual([
      { path: ['params', 'maxSeries'], message: '"maxSeries" sets the same field as "max_series"; give it once', code: 'X_DUPLICATE', warning: false },
    ]);
    expect(o.value('max_series')).toBe(1);
  });

  it('reads null as absent, while the field as written keeps it', () => {
    const { o } = read({ name: null });
    expect(o.value('name')).toBeUndefined();
    expect(o.field('name')).toEqual({ name: 'name', key: 'name', value: null, path: ['params', 'name'] });
  });

  it('points a problem with an absent field at where it would be, under the adapter codes', () => {
    const { o, issues } = read({});
    o.issue('max_series', 'missing');
    o.warn('name', 'odd', 'X_OTHER');
    o.issueAt(['params', 'name', 0], 'inside');
    expect(issues).toEqual([
      { path: ['params', 'max_series'], message: 'missing', code: 'X_FIELD', warning: false },
      { path: ['params', 'name'], message: 'odd', code: 'X_OTHER', warning: true },
      { path: ['params', 'name', 0], message: 'inside', code: 'X_FIELD', warning: false },
    ]);
  });

  it('counts the errors a parser reported through CountingReporter, passing every problem on, warnings uncounted', () => {
    const seen: string[] = [];
    const counting = new CountingReporter({ issue: (_p, m) => seen.push(`error ${m}`), warn: (_p, m) => seen.push(`warning ${m}`) });
    const o = new JsonpbObject({ bogus: 1 }, [], ['name'], 'test params', CODES, counting);
    o.warn('name', 'odd');
    expect(counting.errors).toBe(1);
    expect(counting.failed).toBe(true);
    expect(seen).toEqual(['error unknown field "bogus" in test params (known fields: name)', 'warning odd']);
  });
});
