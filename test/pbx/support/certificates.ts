/**
 * A certificate authority and a server certificate for 127.0.0.1, made with openssl for one test
 * run. A self-signed certificate alone will not do: workerd verifies with rustls, which refuses a
 * CA certificate used as the server's own ("CaUsedAsEndEntity"), as the Web PKI requires.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** The CA to trust (NODE_EXTRA_CA_CERTS). */
  readonly caPath: string;
  /** The server certificate (CN and subjectAltName 127.0.0.1, localhost) and its key. */
  readonly certPath: string;
  readonly keyPath: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeCertificates(directory: string, name = 'server'): Promise<TestCertificates> {
  const file = (suffix: string) => join(directory, `${name}-${suffix}`);
  await run('openssl', ['req', '-x509', ...EC, '-days', '2', '-subj', `/CN=sipedge test CA (${name})`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  await run('openssl', ['req', ...EC, '-subj', '/CN=127.0.0.1', '-keyout', file('key.pem'), '-out', file('csr.pem')]);
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', file('csr.pem'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', file('ext.cnf'), '-out', file('cert.pem')]);
  return { caPath: file('ca.pem'), certPath: file('cert.pem'), keyPath: file('key.pem') };
}
