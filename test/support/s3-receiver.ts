import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An object as the receiver keeps it, with the headers of the PUT that wrote it. */
export interface StoredObject {
  body: Buffer;
  headers: IncomingHttpHeaders;
}

export interface S3Receiver {
  endpoint: string;
  objects: Map<string, StoredObject>;
  /** Every request: method, path and headers (the SigV4 Authorization among them). */
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const error = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`;

/** An aws-chunked body (a streamed PUT): `<hex size>[;chunk-signature=…]\r\n<data>\r\n` until size 0, then trailers. */
function decodeChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!size) return Buffer.concat(parts);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * The part of the S3 API the checkpoint sink uses, path-style, in memory, for tests only:
 * PUT (honouring `If-None-Match: *` with 412), GET (with `Range`), ListObjectsV2. It checks that
 * requests are SigV4-signed in form, not the signature itself (the AWS SDK computes that).
 */
export async function startS3Receiver(): Promise<S3Receiver> {
  const objects = new Map<string, StoredObject>();
  const requests: S3Receiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://s3.test');
      requests.push({ method: req.method!, path: url.pathname, headers: req.headers });
      const send = (status: number, body: string | Buffer = '', headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/xml', ...headers }).end(body);
      };
      if (!/^AWS4-HMAC-SHA256 Credential=\S+\/s3\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/.test(req.headers.authorization ?? '')) {
        return send(403, error('AccessDenied', 'not signed with SigV4'));
      }
      const [, bucket, ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const id = `${bucket}/${key}`;
      if (req.method === 'PUT') {
        if (req.headers['if-none-match'] === '*' && objects.has(id)) return send(412, error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
        const raw = Buffer.concat(chunks);
        const body = String(req.headers['content-encoding'] ?? '').includes('aws-chunked') ? decodeChunked(raw) : raw;
        objects.set(id, { body, headers: req.headers });
        return send(200, '', { etag: `"${objects.size}"` });
      }
      if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket!.length + 1)).sort();
        const contents = keys.map((k) => `<Contents><Key>${xml(k)}</Key><Size>${objects.get(`${bucket}/${k}`)!.body.length}</Size></Contents>`).join('');
        return send(200, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
      }
      if (req.method === 'GET') {
        const object = objects.get(id);
        if (!object) return send(404, error('NoSuchKey', 'The specified key does not exist.'));
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (!range) return send(200, object.body, { 'content-type': 'application/octet-stream', 'content-length': String(object.body.length) });
        const part = object.body.subarray(Number(range[1]), Number(range[2]) + 1);
        return send(206, part, { 'content-type': 'application/octet-stream', 'content-length': String(part.length), 'content-range': `bytes ${range[1]}-${Number(range[1]) + part.length - 1}/${object.body.length}` });
      }
      send(405, error('MethodNotAllowed', `${req.method} is not supported here`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`, objects, requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
