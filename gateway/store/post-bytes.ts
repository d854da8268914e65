import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface Answer {
  status: number;
  text: string;
}

/**
 * POSTs a body as it is, over kept-alive connections to one server. fetch copies a Buffer
 * body before sending it (the Fetch standard asks for a copy of the bytes): a write request's
 * megabyte or two of line protocol, copied outside the heap and kept until the database
 * answered, which V8 counts against the old generation until its next full collection
 * (slabs.ts). Here the spool's own bytes go to the socket.
 */
export class BytesPoster {
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;

  constructor(origin: URL) {
    const tls = origin.protocol === 'https:';
    this.agent = tls ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.request = tls ? httpsRequest : httpRequest;
  }

  /** The answer's status and text; rejects when the connection fails or `signal` aborts first (a timeout). */
  post(
    url: string,
    headers: Readonly<Record<string, string>>,
    body: string | Buffer,
    signal: AbortSignal,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = this.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal,
        },
        (res) => readAnswer(res).then(resolve, (err: Error) => reject(signal.aborted ? (signal.reason as Error) : err)),
      );
      // Aborted: why (a timeout says so), rather than node:http's "The operation was aborted".
      req.once('error', (err) => reject(signal.aborted ? (signal.reason as Error) : err));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAnswer(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('error', reject);
    res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
  });
}
