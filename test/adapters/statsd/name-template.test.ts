import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Timestamp, ValueType, type DimensionSpec } from '../../../src/core/adapter.js';
import {
  checkNameTemplate,
  compileStatName,
  encodeCounterLine,
  parseNameTemplate,
  sanitizeStatName,
  type NameTemplatePart,
} from '../../../src/adapters/statsd/index.js';

function parts(text: string): readonly NameTemplatePart[] {
  const p = parseNameTemplate(text);
  if (!p.ok) throw new Error(p.problem.message);
  return p.parts;
}

function render(template: string, dims: Record<string, [ValueType, unknown]>, prefix = ''): string {
  const specs: DimensionSpec[] = Object.entries(dims).map(([name, [type]]) => ({ name, type }));
  const p = parts(template);
  expect(checkNameTemplate(p, specs)).toEqual([]);
  const r = compileStatName(p, specs, prefix, 'requestcount.instance.istio-system');
  return r(Object.values(dims).map(([, v]) => v as never));
}

describe('name templates', () => {
  it('parse into literal text and {{.dimension}} references with their columns', () => {
    expect(parts('req.{{.destination_service}}.{{ .response_code }}')).toEqual([
      { kind: 'text', text: 'req.', column: 1 },
      { kind: 'dimension', name: 'destination_service', column: 7 },
      { kind: 'text', text: '.', column: 29 },
      { kind: 'dimension', name: 'response_code', column: 33 },
    ]);
  });

  it("honour Go's trim markers and comments", () => {
    expect(parts('a  {{- .x -}}  b{{/* note */}}c')).toEqual([
      { kind: 'text', text: 'a', column: 1 },
      { kind: 'dimension', name: 'x', column: 8 },
      { kind: 'text', text: 'b', column: 16 },
      { kind: 'text', text: 'c', column: 31 },
    ]);
  });

  it.each([
    ['{{.}}', 1],
    ['x{{.a.b}}', 2],
    ['x.{{ index . "a-b" }}', 3],
    ['{{.a | printf "%s"}}', 1],
    ['{{}}', 1],
    ['ok.{{.a', 4],
    ['{{/* open', 1],
  ])('reject %j at column %i', (text, column) => {
    const p = parseNameTemplate(text);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.problem.column).toBe(column);
  });

  it('print dimension values the way Go %v does', () => {
    expect(
      render('{{.svc}}.{{.code}}.{{.latency}}.{{.ip}}.{{.tls}}.{{.ratio}}', {
        svc: [ValueType.STRING, 'reviews'],
        code: [ValueType.INT64, 200],
        latency: [ValueType.DURATION, 1.5e9],
        ip: [ValueType.IP_ADDRESS, new Uint8Array([10, 0, 0, 1])],
        tls: [ValueType.BOOL, true],
        ratio: [ValueType.DOUBLE, 0.25],
      }),
      // The IP's spaces are not legal in a name: `[10 0 0 1]` becomes `[10_0_0_1]`.
    ).toBe('reviews.200.1.5s.[10_0_0_1].true.0.25');
  });

  it('print an INT64 past 2^53 exactly', () => {
    expect(render('bytes.{{.size}}', { size: [ValueType.INT64, 9223372036854775807n] })).toBe('bytes.9223372036854775807');
    expect(render('bytes.{{.size}}', { size: [ValueType.INT64, 9007199254740993n] })).toBe('bytes.9007199254740993');
  });

  it('sanitise dimension values carrying characters illegal in StatsD names instead of sending them raw', () => {
    expect(render('svc.{{.v}}', { v: [ValueType.STRING, 'a:b|c@d\ne\rf g\th\u0000i'] })).toBe('svc.a_b_c_d_e_f_g_h_i');
    // Characters that are legal pass through untouched, non-ASCII included.
    expect(render('{{.v}}', { v: [ValueType.STRING, 'reviews-v1.default_ns/über;x=y'] })).toBe('reviews-v1.default_ns/über;x=y');
  });

  it('replace C1 control characters too, NEL (U+0085) among them, as it does the other whitespace', () => {
    expect(render('svc.{{.v}}', { v: [ValueType.STRING, 'a\u0085b\u0080c\u009fd\u00a0e\u2028f'] })).toBe('svc.a_b_c_d_e_f');
    // And refuses them in the operator's own text.
    expect(checkNameTemplate(parts('svc\u0085.{{.v}}'), [{ name: 'v', type: ValueType.STRING }])).toEqual([
      expect.objectContaining({ kind: 'illegal-text', column: 4 }),
    ]);
  });

  it('join the prefix with a dot, without doubling one the operator wrote', () => {
    const dims = { v: [ValueType.STRING, 'x'] } as Record<string, [ValueType, unknown]>;
    expect(render('{{.v}}', dims, 'mesh')).toBe('mesh.x');
    expect(render('{{.v}}', dims, 'mesh.')).toBe('mesh.x');
    expect(render('{{.v}}', dims, '')).toBe('x');
  });

  it('name the stat after the instance when there is no template, as Mixer did', () => {
    expect(render('', {}, 'mesh')).toBe('mesh.requestcount.instance.istio-system');
  });

  it('render empty when every part is empty, so the handler can drop the instance', () => {
    expect(render('{{.v}}', { v: [ValueType.STRING, ''] }, 'mesh')).toBe('');
  });

  it('print a timestamp dimension as Go time.Time.String', () => {
    const name = render('{{.t}}', { t: [ValueType.TIMESTAMP, new Timestamp(0, 0)] });
    expect(name).not.toMatch(/[:|@\s]/);
    expect(name.startsWith('1970-01-01_00_00_00')).toBe(true);
  });

  it('never let any dimension value break the line: one line, one name, one value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const name = render('svc.{{.a}}.{{.b}}', { a: [ValueType.STRING, a], b: [ValueType.STRING, b] }, 'mesh');
        const line = encodeCounterLine(name, 1);
        expect(line.split('\n')).toHaveLength(1);
        const [stat, rest] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)];
        expect(stat).toBe(name);
        expect(rest).toBe('1|c');
        expect(stat).toBe(`mesh.svc.${sanitizeStatName(a)}.${sanitizeStatName(b)}`);
        expect(stat).not.toMatch(/[:|@\s]/);
      }),
    );
  });
});
