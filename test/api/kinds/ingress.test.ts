import t from 'tap';
import { resourceForKind } from '../../../src/api/resources.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../src/api/validation.js';

const infoFor = (apiVersion: string, kind: string): ResourceInfo => resourceForKind(apiVersion, kind)!;
const messagesFor = (value: KubeObject, old?: KubeObject): string[] =>
  validateObject(infoFor(value.apiVersion, value.kind), value, old).map((error) => error.message);
const defaulted = <T extends KubeObject>(value: T): T => {
  applyDefaults(infoFor(value.apiVersion, value.kind), value);
  return value;
};
const ingress = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' }, spec });
const backend = { service: { name: 'web', port: { number: 80 } } };

t.test('rules, paths and backends', async (t) => {
  t.same(messagesFor(ingress({ rules: [{ host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] })), []);
  t.same(messagesFor(ingress({})), ['spec: Invalid value: {}: either `defaultBackend` or `rules` must be specified']);
  t.same(messagesFor(ingress({ rules: [{ host: 'Bad_Host', http: { paths: [{ path: 'api', pathType: 'Exact', backend: { service: { name: 'web', port: {} } } }, { path: '/', backend }] } }] })), [
    'spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required',
    'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    'spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
    "spec.rules[0].host: Invalid value: \"Bad_Host\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  t.same(defaulted(ingress({ defaultBackend: backend })).spec, { defaultBackend: backend }, 'no defaults in networking/v1');
});
