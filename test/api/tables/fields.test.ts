import t from 'tap';
import {
  at,
  formatLabels,
  formatLabelSelector,
  int,
  layoutContainerCells,
  recs,
  selectorString,
} from '../../../src/api/tables/fields.js';

t.test('readers never throw on missing or mistyped fields', async (t) => {
  t.equal(at(undefined, 'a', 'b'), undefined);
  t.equal(at({ a: 'text' }, 'a', 'b'), undefined);
  t.equal(at({ a: { b: 3 } }, 'a', 'b'), 3);
  t.equal(int('3'), 0);
  t.equal(int(undefined, 1), 1);
  t.equal(int(2.9), 2);
  t.same(recs([{ a: 1 }, 'x', null]), [{ a: 1 }, {}, {}]);
  t.same(recs('nope'), []);
});

t.test('labels are sorted key=value pairs or <none>', async (t) => {
  t.equal(formatLabels({ tier: 'fe', app: 'web' }), 'app=web,tier=fe');
  t.equal(formatLabels({}), '<none>');
  t.equal(formatLabels(undefined), '<none>');
});

t.test('label selectors print like labels.Selector.String()', async (t) => {
  const selector = {
    matchLabels: { tier: 'fe', app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
      { key: 'gpu', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  };
  t.equal(selectorString(selector), 'app=web,env in (dev,prod),gpu,!legacy,tier=fe,zone notin (b)');
  t.equal(selectorString(undefined), '');
  t.equal(selectorString({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), undefined);
  t.equal(formatLabelSelector({}), '<none>');
  t.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  t.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), '<error>');
});

t.test('container cells join names and images', async (t) => {
  t.same(layoutContainerCells({ containers: [{ name: 'web', image: 'node:20' }, { name: 'log', image: 'busybox' }] }), [
    'web,log',
    'node:20,busybox',
  ]);
  t.same(layoutContainerCells(undefined), ['', '']);
});
