import t from 'tap';
import { resourceForKind } from '../../../src/api/resources.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { validateObject } from '../../../src/api/validation.js';

const infoFor = (apiVersion: string, kind: string): ResourceInfo => resourceForKind(apiVersion, kind)!;
const messagesFor = (value: KubeObject, old?: KubeObject): string[] =>
  validateObject(infoFor(value.apiVersion, value.kind), value, old).map((error) => error.message);
const event = (body: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default' }, ...body });

t.test('events need an involved object in their namespace', async (t) => {
  t.same(messagesFor(event({ involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, type: 'Normal', count: 1 })), []);
  t.same(messagesFor(event({ involvedObject: { kind: 'Node', name: 'n' } })), [], 'cluster-scoped objects report into default');
  t.same(messagesFor(event({})), ['involvedObject: Required value']);
  t.same(messagesFor(event({ involvedObject: { kind: 'Pod', name: 'web', namespace: 'other' }, type: 'Loud' })), [
    'type: Unsupported value: "Loud": supported values: "Normal", "Warning"',
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
});
