import t from 'tap';
import {
  isCIdentifier,
  isConfigMapKey,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPercent,
  isValidPortName,
  isValidPortNumber,
  prefixNameCheck,
} from '../../src/api/names.js';

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

t.test('DNS-1123 subdomain', async (t) => {
  t.same(isDns1123Subdomain('example.com'), []);
  t.same(isDns1123Subdomain('a'), []);
  t.same(isDns1123Subdomain('Bad_Name'), [SUBDOMAIN_MESSAGE]);
  t.same(isDns1123Subdomain('a'.repeat(253)), []);
  t.same(isDns1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
  for (const bad of ['../../etc', 'a\u0000b', '%2e%2e%2f', 'раd', '-a', 'a-', '', 'a..b']) t.same(isDns1123Subdomain(bad), [SUBDOMAIN_MESSAGE], JSON.stringify(bad));
});

t.test('DNS-1123 and DNS-1035 labels', async (t) => {
  t.same(isDns1123Label('my-name'), []);
  t.same(isDns1123Label('123-abc'), []);
  t.same(isDns1123Label('a.b'), [LABEL_MESSAGE]);
  t.same(isDns1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  t.same(isDns1035Label('abc-1'), []);
  t.match(isDns1035Label('1abc')[0], /^a DNS-1035 label must consist of/);
});

t.test('qualified names (label keys)', async (t) => {
  t.same(isQualifiedName('app'), []);
  t.same(isQualifiedName('example.com/My.Name'), []);
  t.same(isQualifiedName('/x'), ['prefix part must be non-empty']);
  t.match(isQualifiedName('Bad_Prefix/x'), [/^prefix part a lowercase RFC 1123 subdomain/]);
  t.same(isQualifiedName(`x/${'a'.repeat(64)}`), ['name part must be no more than 63 characters']);
  t.match(isQualifiedName('a/b/c'), [/^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/]);
  t.same(isQualifiedName('-x'), [
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]);
});

t.test('label values', async (t) => {
  t.same(isValidLabelValue(''), []);
  t.same(isValidLabelValue('My_value.1'), []);
  t.same(isValidLabelValue('a'.repeat(63)), []);
  t.same(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
  t.equal(isValidLabelValue('a b').length, 1);
});

t.test('identifiers, env names and config keys', async (t) => {
  t.same(isCIdentifier('MY_VAR'), []);
  t.equal(isCIdentifier('my.var').length, 1);
  t.same(isEnvVarName('my.env-name'), []);
  t.same(isEnvVarName('_X'), []);
  t.equal(isEnvVarName('1X').length, 1);
  t.same(isEnvVarName('..'), ["must not be '..'"]);
  t.same(isConfigMapKey('app.properties'), []);
  t.same(isConfigMapKey('..data'), ["must not start with '..'"]);
  t.equal(isConfigMapKey('a/b').length, 1);
});

t.test('path segments, ports and percents', async (t) => {
  t.same(isValidPathSegmentName('..'), ["may not be '..'"]);
  t.same(isValidPathSegmentName('a/b%'), ["may not contain '/'", "may not contain '%'"]);
  t.same(isValidPortNumber(1), []);
  t.same(isValidPortNumber(65535), []);
  t.same(isValidPortNumber(0), ['must be between 1 and 65535, inclusive']);
  t.same(isValidPortNumber(65536), ['must be between 1 and 65535, inclusive']);
  t.same(isValidPortName('http'), []);
  t.same(isValidPortName('123'), ['must contain at least one letter (a-z)']);
  t.same(isValidPortName('a--b'), ['must not contain consecutive hyphens']);
  t.same(isValidPercent('25%'), []);
  t.equal(isValidPercent('25').length, 1);
});

t.test('generateName prefixes may end with a dash', async (t) => {
  const check = prefixNameCheck(isDns1123Subdomain);
  t.same(check('web-', true), []);
  t.equal(check('web-', false).length, 1);
  t.equal(check('-', true).length, 1);
});
