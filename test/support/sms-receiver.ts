import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface ReceivedSms {
  path: string;
  headers: IncomingHttpHeaders;
  /** The form fields: To, From, Body. */
  form: Record<string, string>;
  answered: number;
}

/**
 * A local HTTP receiver with a Twilio-compatible Messages endpoint: it keeps each request and
 * answers 201 with a message sid, or the next status of `script` (e.g. [500, 400]) while any is left.
 */
export async function startSmsReceiver(script: number[] = []) {
  const received: ReceivedSms[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = script.shift() ?? 201;
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      received.push({ path: req.url ?? '', headers: req.headers, form, answered });
      const body = answered === 201 ? { sid: `SM${received.length.toString().padStart(32, '0')}`, status: 'queued' }
        : { code: answered === 400 ? 21211 : 20500, message: answered === 400 ? "The 'To' number is not a valid phone number." : 'Internal Server Error' };
      res.writeHead(answered, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** Answers the next requests with these statuses. */
    answerNext: (...statuses: number[]) => { script.push(...statuses); },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
