import t from 'tap';
import type { FieldError } from '../../src/api/errors.js';
import { mergeKeyOf, s, schemaAt } from '../../src/api/schema.js';
import type { Infer } from '../../src/api/schema.js';

const widget = s.object({
  name: s.string().required(),
  size: s.integer({ min: 0 }),
  mode: s.string({ enum: ['A', 'B'] }),
  tags: s.map(s.string()),
  parts: s.array(s.object({ id: s.integer().required(), weight: s.quantity() }), { mergeKey: 'id' }),
  port: s.intOrString(),
  on: s.boolean(),
}).check((value, path, errors) => {
  if (value.name === 'forbidden') errors.push({ field: `${path}.name`, type: 'FieldValueForbidden', message: 'nope' });
});
type Widget = Infer<typeof widget>;

const run = (value: unknown): string[] => {
  const errors: FieldError[] = [];
  widget.validate(value, 'spec', errors);
  return errors.map((error) => error.message);
};

t.test('the inferred type follows the schema', async (t) => {
  const value: Widget = { name: 'x', mode: 'A', parts: [{ id: 1 }] };
  t.same(run(value), []);
});

t.test('reports every error with its path', async (t) => {
  t.same(run({ size: -1, mode: 'C', tags: { a: 1 }, parts: [{ id: 'x' }, null, { id: 2, weight: 'abc' }], port: 1.5, on: 'yes' }), [
    'spec.name: Required value',
    'spec.size: Invalid value: -1: must be greater than or equal to 0',
    'spec.mode: Unsupported value: "C": supported values: "A", "B"',
    'spec.tags[a]: Invalid value: 1: must be of type string',
    'spec.parts[0].id: Invalid value: "x": must be of type integer',
    'spec.parts[1]: Required value',
    "spec.parts[2].weight: Invalid value: \"abc\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    'spec.port: Invalid value: 1.5: must be of type integer or string',
    'spec.on: Invalid value: "yes": must be of type boolean',
  ]);
  t.same(run('text'), ['spec: Invalid value: "text": must be of type object']);
});

t.test('int32 range and null as unset', async (t) => {
  t.same(run({ name: 'x', size: 2147483648 }), ['spec.size: Invalid value: 2147483648: must be less than or equal to 2147483647']);
  t.same(run({ name: 'x', size: null, tags: null }), []);
});

t.test('checks run only on well-typed values', async (t) => {
  t.same(run({ name: 'forbidden' }), ['nope']);
  t.same(run({ name: 'forbidden', size: 'big' }), ['spec.size: Invalid value: "big": must be of type integer']);
});

t.test('unknown fields are neither reported nor touched', async (t) => {
  const value = { name: 'x', extra: { deep: [1, { __proto__: 1 }] }, ['constructor']: 'c' };
  const before = JSON.stringify(value);
  t.same(run(value), []);
  t.equal(JSON.stringify(value), before);
});

t.test('introspection for patching', async (t) => {
  t.equal(mergeKeyOf(schemaAt(widget, 'parts')), 'id');
  t.equal(schemaAt(widget, 'parts.weight')?.type, 'quantity');
  t.equal(schemaAt(widget, 'nope'), undefined);
});
