import t from 'tap';
import { ApiError } from '../../src/api/errors.js';
import {
  fieldSelectorFields,
  isEmptySelector,
  labelSelectorFromObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorToString,
} from '../../src/api/selectors.js';
import type { KubeObject } from '../../src/api/types.js';

t.test('parses every label operator', async (t) => {
  const selector = parseLabelSelector('app=web, tier in (a,b),env!=prod,track==stable,!canary,zone notin (x),owner');
  t.same(selector.requirements.map((r) => [r.key, r.operator, r.values]), [
    ['app', 'Equals', ['web']],
    ['tier', 'In', ['a', 'b']],
    ['env', 'NotEquals', ['prod']],
    ['track', 'DoubleEquals', ['stable']],
    ['canary', 'DoesNotExist', []],
    ['zone', 'NotIn', ['x']],
    ['owner', 'Exists', []],
  ]);
  const labels = { app: 'web', tier: 'a', track: 'stable', owner: 'me' };
  t.ok(matchesLabels(selector, labels));
  t.notOk(matchesLabels(selector, { ...labels, canary: 'true' }));
  t.notOk(matchesLabels(selector, { ...labels, tier: 'c' }));
  t.notOk(matchesLabels(selector, { ...labels, env: 'prod' }));
  t.notOk(matchesLabels(selector, { ...labels, zone: 'x' }));
  t.notOk(matchesLabels(selector, undefined));
});

t.test('empty selectors and empty values', async (t) => {
  t.ok(isEmptySelector(parseLabelSelector('')));
  t.ok(matchesLabels(parseLabelSelector('  '), undefined));
  const empty = parseLabelSelector('a=');
  t.ok(matchesLabels(empty, { a: '' }));
  t.notOk(matchesLabels(empty, { a: 'x' }));
  t.notOk(matchesLabels(empty, {}));
  t.ok(matchesLabels(parseLabelSelector('a!=x'), {}), '!= matches a missing key');
});

t.test('syntax errors are 400 BadRequest', async (t) => {
  for (const bad of ['app in', 'app in (a', 'a=b=c', ',', 'app in ()', 'a b', 'Bad Key=1', 'k=v v', 'k=' + 'v'.repeat(64), '!']) {
    t.throws(() => parseLabelSelector(bad), { code: 400, reason: 'BadRequest' }, bad);
  }
  t.throws(() => parseLabelSelector('a=b=c'), ApiError);
  t.throws(() => parseLabelSelector('app in (a'), { message: /^unable to parse requirement: found '', expected: ',' or '\)'$/ });
});

t.test('from objects, and back to strings', async (t) => {
  const selector = labelSelectorFromObject({
    matchLabels: { app: 'web' },
    matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'gone', operator: 'DoesNotExist' }],
  });
  t.equal(selectorToString(selector), 'app=web,!gone,tier in (a,b)');
  t.equal(selectorToString(labelSelectorFromObject({ matchLabels: { tier: 'x', app: 'web' } })), 'app=web,tier=x');
  t.ok(matchesLabels(selector, { app: 'web', tier: 'a' }));
  t.notOk(matchesLabels(labelSelectorFromObject(undefined), { app: 'web' }), 'a missing selector matches nothing');
  t.ok(matchesLabels(labelSelectorFromObject({}), { app: 'web' }), 'an empty selector matches everything');
  t.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), { code: 400 });
  t.equal(selectorToString(parseLabelSelector('b notin (y,x),a')), 'a,b notin (x,y)');
});

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default' },
  spec: { nodeName: 'node-a', hostNetwork: true },
  status: { phase: 'Running' },
};

t.test('field selectors', async (t) => {
  const selector = parseFieldSelector('metadata.name=web-1,spec.nodeName==node-a,status.phase!=Failed');
  t.ok(matchesFields(selector, pod));
  t.same(fieldSelectorFields(selector), ['metadata.name', 'spec.nodeName', 'status.phase']);
  t.ok(matchesFields(parseFieldSelector('spec.missing='), pod), 'a missing field reads as ""');
  t.ok(matchesFields(parseFieldSelector('spec.hostNetwork=true'), pod));
  t.notOk(matchesFields(parseFieldSelector('metadata.namespace=kube-system'), pod));
  t.ok(matchesFields(parseFieldSelector(''), pod));
  t.same(parseFieldSelector('a=x\\,y').requirements, [{ field: 'a', operator: '=', value: 'x,y' }]);
  const event: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'web-1' }, type: 'Warning' };
  t.ok(matchesFields(parseFieldSelector('involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning'), event));
});

t.test('field selectors only know equality', async (t) => {
  for (const bad of ['status.phase in (Running)', 'a>b', 'justakey']) {
    t.throws(() => parseFieldSelector(bad), { code: 400, reason: 'BadRequest' }, bad);
  }
  t.throws(() => parseFieldSelector('a>b'), { message: "invalid selector: 'a>b'; can't understand 'a>b'" });
});
