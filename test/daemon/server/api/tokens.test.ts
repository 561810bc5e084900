import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TokenStore, TokenStoreError } from '../../../../src/daemon/server/api/tokens.js';

t.test('a created token authenticates as its user, group and role', async (t) => {
  const store = await TokenStore.open(path.join(t.testdir(), 'tokens.json'));
  const { token, id } = await store.create({ user: 'alice', role: 'edit', groups: ['devs'] });
  t.match(id, /^[a-z0-9]{6}$/);
  t.match(token, new RegExp(`^${id}\\.[A-Za-z0-9_-]{43}$`));
  t.same(store.authenticate(`Bearer ${token}`), { user: 'alice', groups: ['devs'], role: 'edit' });
  // Kubernetes' bearer-token authenticator lowercases the scheme before comparing.
  t.same(store.authenticate(`bearer ${token}`), { user: 'alice', groups: ['devs'], role: 'edit' });
  t.same(store.authenticate(`BEARER ${token}`)?.user, 'alice');
});

t.test('anything but exactly "Bearer <live token>" is rejected', async (t) => {
  const store = await TokenStore.open(path.join(t.testdir(), 'tokens.json'));
  const { token } = await store.create({ user: 'alice', role: 'admin' });
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  const other = await TokenStore.open(path.join(t.testdir(), 'other.json'));
  const foreign = (await other.create({ user: 'mallory', role: 'admin' })).token;
  const cases: Array<[string, string | undefined]> = [
    ['missing header', undefined],
    ['empty header', ''],
    ['scheme only', 'Bearer'],
    ['scheme and space only', 'Bearer '],
    ['two spaces', `Bearer  ${token}`],
    ['tab', `Bearer\t${token}`],
    ['trailing space', `Bearer ${token} `],
    ['leading space', ` Bearer ${token}`],
    ['trailing word', `Bearer ${token} extra`],
    ['wrong scheme', `Basic ${token}`],
    ['no scheme', token],
    ['modified last character', `Bearer ${token.slice(0, -1)}${last}`],
    ['right id, wrong secret', `Bearer ${token.slice(0, 7)}${foreign.slice(7)}`],
    ['unknown token', `Bearer ${foreign}`],
    ['truncated', `Bearer ${token.slice(0, -1)}`],
  ];
  for (const [name, header] of cases) t.equal(store.authenticate(header), undefined, name);
  t.ok(store.authenticate(`Bearer ${token}`), 'the real token still works');
});

t.test('expired tokens are rejected', async (t) => {
  let now = new Date('2030-01-01T00:00:00Z');
  const store = await TokenStore.open(path.join(t.testdir(), 'tokens.json'), { now: () => now });
  const { token, id } = await store.create({ user: 'system:bootstrap', role: 'node', ttlSeconds: 60 });
  t.equal(store.list().find((info) => info.id === id)?.expiresAt, '2030-01-01T00:01:00.000Z');
  now = new Date('2030-01-01T00:00:59Z');
  t.ok(store.authenticate(`Bearer ${token}`));
  now = new Date('2030-01-01T00:01:00Z');
  t.equal(store.authenticate(`Bearer ${token}`), undefined);
  await t.rejects(store.create({ user: 'x', role: 'view', ttlSeconds: 0 }), { name: 'TokenStoreError', code: 'InvalidTokenRequest' });
  await t.rejects(store.create({ user: 'x', role: 'root' as 'admin' }), { code: 'InvalidTokenRequest' });
  await t.rejects(store.create({ user: '', role: 'view' }), { code: 'InvalidTokenRequest' });
});

t.test('revoked tokens are rejected and the rest keep working', async (t) => {
  const store = await TokenStore.open(path.join(t.testdir(), 'tokens.json'));
  const first = await store.create({ user: 'alice', role: 'view' });
  const second = await store.create({ user: 'bob', role: 'view' });
  t.equal(await store.revoke(first.id), true);
  t.equal(await store.revoke(first.id), false, 'revoking twice is harmless');
  t.equal(store.authenticate(`Bearer ${first.token}`), undefined);
  t.equal(store.authenticate(`Bearer ${second.token}`)?.user, 'bob');
  t.same(store.list().map((info) => info.id), [second.id]);
});

t.test('the file holds hashes only, is private, and reloads', async (t) => {
  const file = path.join(t.testdir(), 'state', 'tokens.json');
  const store = await TokenStore.open(file);
  const created = await Promise.all([
    store.create({ user: 'alice', role: 'admin', groups: ['system:masters'] }),
    store.create({ user: 'bob', role: 'view' }),
    store.create({ user: 'carol', role: 'edit' }),
  ]);
  const text = await readFile(file, 'utf8');
  for (const { token, id } of created) {
    t.notOk(text.includes(token), 'no plaintext token');
    t.notOk(text.includes(token.slice(id.length + 1)), 'no plaintext secret');
  }
  t.equal((await stat(file)).mode & 0o777, 0o600);
  t.equal((JSON.parse(text) as { tokens: unknown[] }).tokens.length, 3, 'concurrent creates all persisted');
  for (const info of store.list()) t.notOk('hash' in info, 'list() shows no hash');

  const reopened = await TokenStore.open(file);
  for (const { token } of created) t.ok(reopened.authenticate(`Bearer ${token}`));
  t.same(reopened.authenticate(`Bearer ${created[0]?.token}`), { user: 'alice', groups: ['system:masters'], role: 'admin' });
  t.same(reopened.list(), store.list());
});

t.test('a malformed file is a clear error naming it', async (t) => {
  const file = path.join(t.testdir(), 'tokens.json');
  await writeFile(file, '{"tokens": [{"id": "abc"}]}');
  const error = await TokenStore.open(file).catch((caught: unknown) => caught);
  t.ok(error instanceof TokenStoreError);
  t.match(error, { code: 'TokenFileInvalid', message: file });
  await writeFile(file, 'not json');
  await t.rejects(TokenStore.open(file), { code: 'TokenFileInvalid' });
});
