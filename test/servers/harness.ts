// Shared machinery for the wire-level test servers: an HTTP(S) server on 127.0.0.1 that records every
// request and can replace any response with a scripted fault. Each provider server supplies only the
// protocol (a handler); faults, recording and TLS live here once.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  readonly time: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface Reply {
  readonly status: number;
  readonly body?: string | object;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What to do instead of (or before) the protocol's answer for one request. */
export type Fault =
  | { readonly kind: "reply"; readonly reply: Reply }
  | { readonly kind: "hang" }
  | { readonly kind: "reset" }
  /** Send the headers and this many body bytes of the real answer, then destroy the socket. */
  | { readonly kind: "resetAfterBytes"; readonly bytes: number }
  /** Send the real answer one byte every `ms`. */
  | { readonly kind: "trickle"; readonly ms: number }
  /** Answer normally after `ms`. */
  | { readonly kind: "delay"; readonly ms: number }
  /** Answer with a reply computed when the request arrives (e.g. a Retry-After date). */
  | { readonly kind: "replyFn"; readonly reply: (request: RecordedRequest) => Reply };

/** When a request arrived and when its answer ended (sent, reset or abandoned by the client). */
export interface RequestSpan {
  readonly request: RecordedRequest;
  readonly end: number;
}

export type RequestMatcher = (request: RecordedRequest) => boolean;

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface TestServerOptions {
  readonly handler: Handler;
  /** PEM key and certificate chain: serve HTTPS. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Added to every response before it is sent (latency for benchmarks). */
  readonly latencyMs?: number;
}

interface ScriptedFaults {
  readonly matcher: RequestMatcher;
  readonly queue: Fault[];
  /** Once the queue is used up, keep applying the last fault. */
  readonly forever: boolean;
}

export class TestServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests whose exchange is over, with the time it ended: in-flight counts per client. */
  readonly spans: RequestSpan[] = [];
  /** TCP connections accepted so far (for HTTPS: TLS handshakes attempted). */
  connectionsAccepted = 0;
  #scripts: ScriptedFaults[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #server: ReturnType<typeof createHttpServer>;
  #url = "";

  private readonly options: TestServerOptions;

  private constructor(options: TestServerOptions) {
    this.options = options;
    const listener = (req: IncomingMessage, res: ServerResponse): void => void this.#serve(req, res);
    this.#server =
      options.tls === undefined ? createHttpServer(listener) : createHttpsServer(options.tls, listener);
    this.#server.on("connection", (socket: Socket) => {
      this.connectionsAccepted++;
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(options: TestServerOptions): Promise<TestServer> {
    const server = new TestServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, "127.0.0.1", resolve));
    const { port } = server.#server.address() as AddressInfo;
    server.#url = `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`;
    return server;
  }

  get url(): string {
    return this.#url;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The next matching requests get these faults, in order; `forever` repeats the last one. */
  script(matcher: RequestMatcher, faults: readonly Fault[], options: { forever?: boolean } = {}): void {
    this.#scripts.push({ matcher, queue: [...faults], forever: options.forever ?? false });
  }

  clearFaults(): void {
    this.#scripts = [];
  }

  /** Sockets open right now (a client that abandons a request without closing it leaves one behind). */
  get openConnections(): number {
    return this.#sockets.size;
  }

  count(matcher: RequestMatcher): number {
    return this.requests.filter(matcher).length;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #nextFault(request: RecordedRequest): Fault | undefined {
    for (const script of this.#scripts) {
      if (!script.matcher(request) || script.queue.length === 0) continue;
      const fault = script.queue.length === 1 && script.forever ? script.queue[0] : script.queue.shift();
      return fault;
    }
    return undefined;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: RecordedRequest = {
      time: Date.now(),
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    this.requests.push(request);
    res.on("close", () => this.spans.push({ request, end: Date.now() }));
    const fault = this.#nextFault(request);
    if (this.options.latencyMs !== undefined) await sleep(this.options.latencyMs);
    if (fault?.kind === "hang") return; // keep the socket open, never answer
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "delay") await sleep(fault.ms);
    let reply: Reply;
    try {
      reply =
        fault?.kind === "reply"
          ? fault.reply
          : fault?.kind === "replyFn"
            ? fault.reply(request)
            : await this.options.handler(request);
    } catch (error) {
      reply = { status: 500, body: { error: `test server handler failed: ${String(error)}` } };
    }
    const body = encodeBody(reply.body);
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.body !== undefined && typeof reply.body !== "string" && headers["content-type"] === undefined) {
      headers["content-type"] = "application/json";
    }
    headers["content-length"] = String(body.length);
    res.writeHead(reply.status, headers);
    if (fault?.kind === "resetAfterBytes") {
      res.write(body.subarray(0, fault.bytes), () => res.socket?.destroy());
      return;
    }
    if (fault?.kind === "trickle") {
      for (const byte of body) {
        if (res.destroyed) return;
        res.write(Buffer.from([byte]));
        await sleep(fault.ms);
      }
      res.end();
      return;
    }
    res.end(body);
  }
}

function encodeBody(body: Reply["body"]): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return Buffer.from(typeof body === "string" ? body : JSON.stringify(body), "utf8");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const reply = (status: number, body?: string | object, headers?: Record<string, string>): Fault => ({
  kind: "reply",
  reply: { status, ...(body === undefined ? {} : { body }), ...(headers === undefined ? {} : { headers }) },
});
