import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../../runtime/config';
import { connectTemporal, temporalConnectionOptions } from '../../runtime/temporal';
import { testEnvironment } from '../support/env';

/**
 * The worker and the API reach a secured Temporal the way configuration says: here the run's dev
 * server behind a real mTLS endpoint (certificates made with openssl for the test), which only
 * accepts clients with a certificate from its CA.
 */
describe('connecting to a secured Temporal', () => {
  let dir: string;
  let endpoint: tls.Server;
  let port: number;
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  function issue(name: string, ca: string, extensions: string): void {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  const ca = (name: string) => openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nurture-tls-'));
    ca('ca');
    ca('rogue-ca');
    issue('server', 'ca', 'subjectAltName=DNS:temporal.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    issue('worker', 'ca', 'extendedKeyUsage=clientAuth\n');
    issue('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    const [host, upstreamPort] = testEnvironment().temporalAddress.split(':');
    endpoint = tls.createServer({
      key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')),
      requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'],
    }, (socket) => {
      const upstream = net.connect(Number(upstreamPort), host);
      socket.pipe(upstream).pipe(socket);
      const close = () => { socket.destroy(); upstream.destroy(); };
      socket.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    port = (endpoint.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => endpoint?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const configWith = (env: Record<string, string>) => loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_TLS_SERVER_NAME: 'temporal.test', ...env });

  it('connects with the configured client certificate and CA', async () => {
    const connection = await connectTemporal(temporalConnectionOptions(configWith({
      TEMPORAL_TLS_CA_PATH: file('ca.pem'), TEMPORAL_TLS_CERT_PATH: file('worker.pem'), TEMPORAL_TLS_KEY_PATH: file('worker.key'),
    })), 5_000);
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
  });

  it.each([
    ['without a client certificate', { TEMPORAL_TLS: 'true', TEMPORAL_TLS_CA_PATH: 'ca.pem' }],
    ['with a certificate from another CA', { TEMPORAL_TLS_CA_PATH: 'ca.pem', TEMPORAL_TLS_CERT_PATH: 'rogue.pem', TEMPORAL_TLS_KEY_PATH: 'rogue.key' }],
    ['when the server\'s CA is not trusted', { TEMPORAL_TLS_CA_PATH: 'rogue-ca.pem', TEMPORAL_TLS_CERT_PATH: 'worker.pem', TEMPORAL_TLS_KEY_PATH: 'worker.key' }],
    ['over plain TCP', {}],
  ])('is refused %s', async (_, env) => {
    const paths = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k.endsWith('_PATH') ? file(v) : v]));
    await expect(connectTemporal(temporalConnectionOptions(configWith(paths)), 1_000)).rejects.toThrow(/not reachable/);
  });

  it('sends an API key over TLS and refuses half an mTLS configuration', () => {
    const options = temporalConnectionOptions(configWith({ TEMPORAL_API_KEY: 'key-123' }));
    expect(options).toMatchObject({ apiKey: 'key-123', tls: {} });
    expect(() => configWith({ TEMPORAL_TLS_CERT_PATH: file('worker.pem') })).toThrow(/give both/);
  });
});
