import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureServerCertificates, TlsError } from '../../../../src/daemon/server/api/tls.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Serves one fixed body over HTTPS on 127.0.0.1:0 and returns what a client with `ca` sees. */
async function fetchOverTls(pair: { certPem: string; keyPem: string }, ca: string | undefined): Promise<string> {
  const server = https.createServer({ cert: pair.certPem, key: pair.keyPem }, (_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve, reject) => {
      const request = https.get({ host: '127.0.0.1', port, path: '/', ...(ca === undefined ? {} : { ca }) }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(body));
      });
      request.on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

t.test('creates a CA and a serving certificate that a CA-pinning client trusts', async (t) => {
  const dir = path.join(t.testdir(), 'pki');
  const pki = await ensureServerCertificates(dir, { sans: ['pm8s.example.test', '10.99.0.1'], hostname: 'node-a' });
  t.equal(pki.created, true);
  t.equal(pki.caCertPath, path.join(dir, 'ca.crt'));
  t.equal(await readFile(pki.certPath, 'utf8'), pki.certPem);
  t.equal(await readFile(pki.keyPath, 'utf8'), pki.keyPem);
  t.match(pki.keyPem, /^-----BEGIN PRIVATE KEY-----/);

  t.equal(await fetchOverTls(pki, pki.caCertPem), 'ok');
  await t.rejects(fetchOverTls(pki, undefined), { code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/ });

  const ca = new X509Certificate(pki.caCertPem);
  const cert = new X509Certificate(pki.certPem);
  t.equal(ca.ca, true);
  t.match(ca.subject, /^CN=pm8s-ca@\d+$/);
  t.equal(cert.ca, false);
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the CA');
  t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extendedKeyUsage serverAuth');
  const sans = (cert.subjectAltName ?? '').split(', ');
  for (const san of ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:node-a', 'DNS:pm8s.example.test', 'IP Address:127.0.0.1', 'IP Address:10.99.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
    t.ok(sans.includes(san), `SAN ${san}`);
  }
  const days = (Date.parse(cert.validTo) - Date.now()) / DAY_MS;
  t.ok(days > 360 && days <= 365, 'serving certificate lasts a year');
  t.ok((Date.parse(ca.validTo) - Date.now()) / DAY_MS > 3640, 'CA lasts ten years');
});

t.test('files and directory are private', async (t) => {
  const dir = path.join(t.testdir(), 'nested', 'pki');
  await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [] });
  t.equal(await mode(dir), 0o700);
  t.equal(await mode(path.join(dir, 'ca.key')), 0o600);
  t.equal(await mode(path.join(dir, 'server.key')), 0o600);
});

t.test('reuses, then renews the serving certificate when a SAN is missing or expiry is near', async (t) => {
  const dir = t.testdir();
  const now = new Date();
  const first = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [], sans: ['10.1.0.1'], now });

  const again = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [], sans: ['10.1.0.1'], now });
  t.equal(again.created, false);
  t.equal(again.certPem, first.certPem);
  t.equal(again.keyPem, first.keyPem);
  t.equal(again.caCertPem, first.caCertPem);

  const later = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [], sans: ['10.1.0.1'], now: new Date(now.getTime() + 300 * DAY_MS) });
  t.equal(later.created, false, 'more than 30 days left: kept');

  const widened = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [], sans: ['10.1.0.1', 'api.example.test'], now });
  t.equal(widened.created, true);
  t.not(widened.certPem, first.certPem);
  t.not(widened.keyPem, first.keyPem);
  t.equal(widened.caCertPem, first.caCertPem, 'the CA is never replaced');
  const cert = new X509Certificate(widened.certPem);
  t.ok(cert.verify(new X509Certificate(first.caCertPem).publicKey));
  t.equal(cert.checkHost('api.example.test'), 'api.example.test');
  t.equal(cert.checkIP('10.1.0.1'), '10.1.0.1');
  t.equal(await fetchOverTls(widened, first.caCertPem), 'ok');

  const nearExpiry = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [], sans: ['10.1.0.1'], now: new Date(now.getTime() + 340 * DAY_MS) });
  t.equal(nearExpiry.created, true, 'within 30 days of expiry: renewed');
  t.equal(nearExpiry.caCertPem, first.caCertPem);

  // The same names in a different spelling are already covered.
  const respelled = await ensureServerCertificates(dir, { hostname: 'NODE-A', addresses: ['0:0:0:0:0:0:0:1'], sans: ['10.1.0.1'], now: new Date(now.getTime() + 340 * DAY_MS) });
  t.equal(respelled.created, false);
});

t.test('replaces a corrupt or mismatched serving pair', async (t) => {
  const dir = t.testdir();
  const first = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [] });
  await writeFile(first.certPath, 'garbage');
  const repaired = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [] });
  t.equal(repaired.created, true);
  t.equal(await fetchOverTls(repaired, first.caCertPem), 'ok');

  await writeFile(repaired.keyPath, first.keyPem);
  const rekeyed = await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [] });
  t.equal(rekeyed.created, true);
  t.equal(await fetchOverTls(rekeyed, first.caCertPem), 'ok');
});

t.test('refuses to replace a CA whose key is gone', async (t) => {
  const dir = t.testdir();
  await ensureServerCertificates(dir, { hostname: 'node-a', addresses: [] });
  await rm(path.join(dir, 'ca.key'));
  await t.rejects(ensureServerCertificates(dir, { hostname: 'node-a', addresses: [] }), { name: 'TlsError', code: 'CaKeyMissing' });
});

t.test('rejects a SAN that is neither an IP nor a DNS name', async (t) => {
  const error = await ensureServerCertificates(t.testdir(), { sans: ['not a name!'] }).catch((caught: unknown) => caught);
  t.ok(error instanceof TlsError);
  t.match(error, { code: 'InvalidSubjectAltName' });
});

t.test('includes the machine hostname and interface addresses by default', async (t) => {
  const { certPem } = await ensureServerCertificates(t.testdir(), {});
  const cert = new X509Certificate(certPem);
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(cert.checkHost('localhost'), 'localhost');
  const hostname = os.hostname().toLowerCase();
  if (/^[a-z0-9.-]+$/.test(hostname)) t.equal(cert.checkHost(hostname), hostname);
  const external = Object.values(os.networkInterfaces()).flatMap((list) => list ?? []).filter((address) => !address.internal && address.family === 'IPv4');
  for (const { address } of external) t.equal(cert.checkIP(address), address, `interface address ${address}`);
  if (external.length === 0) t.comment('skip: this machine has no non-internal IPv4 address to check');
});
