/**
 * The API server's PKI: a self-signed CA that lives as long as the cluster and
 * a serving certificate it signs, renewed whenever it nears expiry or lacks a
 * name clients use. Clients pin the CA, so the CA is never replaced.
 */
import { createPrivateKey, randomBytes, webcrypto, X509Certificate as NodeCertificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type * as X509 from '@peculiar/x509';
import { writeFileAtomic } from '../../../lib/write-file-atomic.js';
import { CodedError } from '../../../lib/coded-error.js';

export interface ServerCertificateOptions {
  /** Extra names from `--tls-san`: each an IP address or a DNS name. */
  sans?: string[];
  /** Replaces `os.hostname()`. */
  hostname?: string;
  /** Replaces the machine's non-internal interface addresses. */
  addresses?: string[];
  now?: Date;
}

export interface ServerCertificates {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caCertPath: string;
  certPath: string;
  keyPath: string;
  /** True when this call wrote a new CA or a new serving certificate. */
  created: boolean;
}

export type TlsErrorCode = 'CaKeyMissing' | 'CaKeyMismatch' | 'InvalidSubjectAltName';

export class TlsError extends CodedError<TlsErrorCode> {}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_MS = 3650 * DAY_MS;
const SERVING_VALIDITY_MS = 365 * DAY_MS;
const RENEW_BEFORE_MS = 30 * DAY_MS;
/** Backdated so agents whose clocks run a little behind still accept fresh certificates. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DEFAULT_DNS_NAMES = ['localhost', 'kubernetes', 'kubernetes.default'];
const DEFAULT_IPS = ['127.0.0.1', '::1'];
const DNS_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);

/** Creates the CA and serving certificate in `dir` on first use; afterwards reuses or renews the serving certificate. */
export async function ensureServerCertificates(dir: string, options: ServerCertificateOptions = {}): Promise<ServerCertificates> {
  const now = options.now ?? new Date();
  const wanted = wantedNames(options);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = {
    caCertPath: path.join(dir, 'ca.crt'),
    caKeyPath: path.join(dir, 'ca.key'),
    certPath: path.join(dir, 'server.crt'),
    keyPath: path.join(dir, 'server.key'),
  };
  // Most starts find a good pair: checked with Node's own X509Certificate, so the x509 library
  // (~20 MiB of resident memory, kept for the process's life) loads only to create or renew.
  const reusable = await reuseWithNodeCrypto(paths, wanted, now);
  if (reusable !== undefined) return reusable;
  const x509 = await loadX509();

  const ca = (await loadCa(x509, paths.caCertPath, paths.caKeyPath)) ?? (await createCa(x509, paths.caCertPath, paths.caKeyPath, now));
  const result = { caCertPem: ca.certPem, caCertPath: paths.caCertPath, certPath: paths.certPath, keyPath: paths.keyPath };

  // The pair on disk (if any) failed the checks above: the serving pair is derived material, made anew.
  const serving = await createServing(x509, ca, wanted, now);
  // Key first: a crash between the two writes leaves a mismatched pair, which the next start replaces.
  await writeFileAtomic(paths.keyPath, serving.keyPem, 0o600);
  await writeFileAtomic(paths.certPath, serving.certPem, 0o644);
  return { ...result, ...serving, created: true };
}

/** Imports @peculiar/x509 ready for Node's webcrypto; its DI container (tsyringe) needs reflect-metadata loaded first. */
export async function loadX509(): Promise<typeof X509> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto);
  return x509;
}

interface Ca {
  certPem: string;
  cert: X509.X509Certificate;
  signingKey: webcrypto.CryptoKey;
}

interface Names {
  dns: string[];
  ips: string[];
}

async function loadCa(x509: typeof X509, certPath: string, keyPath: string): Promise<Ca | undefined> {
  const certPem = await readIfExists(certPath);
  if (certPem === undefined) return undefined;
  const keyPem = await readIfExists(keyPath);
  if (keyPem === undefined) {
    throw new TlsError('CaKeyMissing', `${certPath} exists but ${keyPath} is missing; restore the CA key (a new CA would break every client that pins this one)`);
  }
  const nodeCert = new NodeCertificate(certPem);
  const privateKey = createPrivateKey(keyPem);
  if (!nodeCert.checkPrivateKey(privateKey)) {
    throw new TlsError('CaKeyMismatch', `${keyPath} is not the private key of ${certPath}`);
  }
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
  return { certPem, cert: new x509.X509Certificate(certPem), signingKey };
}

async function createCa(x509: typeof X509, certPath: string, keyPath: string, now: Date): Promise<Ca> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=pm8s-ca@${Math.floor(now.getTime() / 1000)}`,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem');
  // Key first: ca.crt is what marks the CA as complete (see loadCa).
  await writeFileAtomic(keyPath, await exportKeyPem(x509, keys.privateKey), 0o600);
  await writeFileAtomic(certPath, certPem, 0o644);
  return { certPem, cert, signingKey: keys.privateKey };
}

async function createServing(x509: typeof X509, ca: Ca, names: Names, now: Date): Promise<{ certPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const notAfter = Math.min(now.getTime() + SERVING_VALIDITY_MS, ca.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=pm8s-server@${Math.floor(now.getTime() / 1000)}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      caSki ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId) : await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(x509, keys.privateKey) };
}

/** The existing CA and serving pair when both are sound and the pair covers `wanted`; undefined to take the full path. */
async function reuseWithNodeCrypto(
  paths: { caCertPath: string; caKeyPath: string; certPath: string; keyPath: string },
  wanted: Names,
  now: Date,
): Promise<ServerCertificates | undefined> {
  const [caCertPem, caKeyPem, certPem, keyPem] = await Promise.all([paths.caCertPath, paths.caKeyPath, paths.certPath, paths.keyPath].map(readIfExists));
  if (caCertPem === undefined || caKeyPem === undefined || certPem === undefined || keyPem === undefined) return undefined;
  try {
    const ca = new NodeCertificate(caCertPem);
    const serving = new NodeCertificate(certPem);
    if (!ca.checkPrivateKey(createPrivateKey(caKeyPem)) || !serving.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (!serving.checkIssued(ca) || !serving.verify(ca.publicKey)) return undefined;
    if (now.getTime() < new Date(serving.validFrom).getTime() || new Date(serving.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return undefined;
    const have: Names = { dns: [], ips: [] };
    for (const entry of (serving.subjectAltName ?? '').split(', ')) {
      if (entry.startsWith('DNS:')) have.dns.push(entry.slice(4).toLowerCase());
      else if (entry.startsWith('IP Address:') && isIP(entry.slice(11)) !== 0) have.ips.push(canonicalIp(entry.slice(11)));
    }
    if (!wanted.dns.every((name) => have.dns.includes(name)) || !wanted.ips.every((ip) => have.ips.includes(ip))) return undefined;
  } catch {
    return undefined; // unreadable: the full path decides (and reports a broken CA)
  }
  return { caCertPem, certPem, keyPem, caCertPath: paths.caCertPath, certPath: paths.certPath, keyPath: paths.keyPath, created: false };
}

function wantedNames(options: ServerCertificateOptions): Names {
  const dns = new Set(DEFAULT_DNS_NAMES);
  const ips = new Set(DEFAULT_IPS);
  if (options.hostname !== undefined) {
    addName(options.hostname, dns, ips);
  } else {
    const hostname = os.hostname().toLowerCase();
    // A machine name that is not a valid DNS name (say, with an underscore) cannot be certified; skip it.
    if (DNS_NAME.test(hostname)) dns.add(hostname);
  }
  for (const address of options.addresses ?? interfaceAddresses()) addName(address, dns, ips);
  for (const san of options.sans ?? []) addName(san, dns, ips);
  return { dns: [...dns], ips: [...ips] };
}

function addName(name: string, dns: Set<string>, ips: Set<string>): void {
  if (isIP(name) !== 0) {
    ips.add(canonicalIp(name));
    return;
  }
  const lower = name.toLowerCase();
  if (lower.length > 253 || !DNS_NAME.test(lower)) {
    throw new TlsError('InvalidSubjectAltName', `"${name}" is neither an IP address nor a valid DNS name`);
  }
  dns.add(lower);
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => !address.internal)
    .map((address) => address.address);
}

/** One spelling per address (`0:0::1` and `::1` are the same SAN). */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : new URL(`http://${ip}/`).hostname;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // Clear the top bit: serial numbers are positive DER INTEGERs.
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function exportKeyPem(x509: typeof X509, key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
