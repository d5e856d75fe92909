// Throw-away TLS material for tests, made with the openssl CLI in a temp dir: a CA, a server certificate
// for 127.0.0.1/localhost signed by it, and the bad ones the security tests need (expired, wrong host,
// self-signed). Shared by the fake POP3 server and the Dovecot harness.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair {
  certPem: string;
  keyPem: string;
}

export interface TestCertificates extends CertPair {
  dir: string;
  caPem: string;
  /** Paths of the good server certificate and key inside `dir` (for servers that want files). */
  certPath: string;
  keyPath: string;
  caPath: string;
  expired: CertPair;
  wrongHost: CertPair;
  selfSigned: CertPair;
  cleanup(): Promise<void>;
}

const GOOD_SAN = 'DNS:localhost,IP:127.0.0.1,IP:::1';

// `openssl ca` is the only 3.0 command that takes an explicit notBefore/notAfter (for the expired one).
const CA_CONFIG = `
[ca]
default_ca = test_ca
[test_ca]
dir = DIR
database = DIR/index.txt
new_certs_dir = DIR
serial = DIR/serial
certificate = DIR/ca.pem
private_key = DIR/ca.key
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
`;

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

async function makeKeyAndCsr(dir: string, name: string, cn: string, san: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  await openssl(
    [
      'req',
      '-new',
      '-key',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    dir,
  );
}

async function signLeaf(dir: string, name: string, dates: string[]): Promise<CertPair> {
  await openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-extensions',
      'leaf',
      '-notext',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
      ...dates,
    ],
    dir,
  );
  return readPair(dir, name);
}

async function readPair(dir: string, name: string): Promise<CertPair> {
  const [certPem, keyPem] = await Promise.all([
    readFile(join(dir, `${name}.pem`), 'utf8'),
    readFile(join(dir, `${name}.key`), 'utf8'),
  ]);
  return { certPem, keyPem };
}

async function makeCa(dir: string): Promise<void> {
  await writeFile(join(dir, 'ca.cnf'), CA_CONFIG.replaceAll('DIR', dir));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '3',
      '-subj',
      '/CN=pophook test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

async function makeSelfSigned(dir: string): Promise<CertPair> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'self.key'], dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'self.key',
      '-out',
      'self.pem',
      '-days',
      '3',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=${GOOD_SAN}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
    ],
    dir,
  );
  return readPair(dir, 'self');
}

/** Creates a fresh CA and server certificates; call `cleanup()` in afterAll. Takes well under a second. */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-certs-'));
  try {
    await makeCa(dir);
    await makeKeyAndCsr(dir, 'server', 'localhost', GOOD_SAN);
    await makeKeyAndCsr(dir, 'expired', 'localhost', GOOD_SAN);
    await makeKeyAndCsr(dir, 'wrong', 'wrong.example', 'DNS:wrong.example,IP:192.0.2.1');
    // Sequential: `openssl ca` rewrites index.txt and serial.
    const good = await signLeaf(dir, 'server', ['-days', '3']);
    const expired = await signLeaf(dir, 'expired', [
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
    ]);
    const wrongHost = await signLeaf(dir, 'wrong', ['-days', '3']);
    const selfSigned = await makeSelfSigned(dir);
    const caPem = await readFile(join(dir, 'ca.pem'), 'utf8');
    return {
      dir,
      caPem,
      ...good,
      certPath: join(dir, 'server.pem'),
      keyPath: join(dir, 'server.key'),
      caPath: join(dir, 'ca.pem'),
      expired,
      wrongHost,
      selfSigned,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
