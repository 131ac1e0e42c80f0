import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { Problem, sendProblem } from './problem.js';

/**
 * The answers the framework and Node's HTTP parser give before a route runs, made RFC 9457
 * problems like every other: a request line or headers too large (431), a bad Content-Length or
 * request that does not parse (400), a URL that does not decode (400), a path parameter far too
 * long (414), and a method the path does not take (405 with Allow).
 */

/** Node's 'clientError': the request could not even be parsed, so there is no route and no reply object. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'the request line and headers are larger than this server reads (16 KB): send a shorter URL and fewer or smaller headers']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'the request did not arrive in time: headers within 15 s and the whole request within the request timeout']
    : err.code === 'HPE_INVALID_CONTENT_LENGTH' || err.code === 'HPE_UNEXPECTED_CONTENT_LENGTH' ? [400, 'Content-Length is not one non-negative number (or comes with Transfer-Encoding)']
    : err.code === 'HPE_INVALID_TRANSFER_ENCODING' ? [400, 'Transfer-Encoding is not one this server reads (chunked)']
    : [400, `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`] as const;
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status], status, detail, code: 'E_INPUT' });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/** Fastify's own errors raised before routing (frameworkErrors). */
export function frameworkErrors(err: Error & { code?: string }, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendProblem(reply, new Problem(414, 'E_INPUT', 'a path parameter is longer than any this API takes: record ids are 36 characters'));
    return;
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    void sendProblem(reply, new Problem(400, 'E_INPUT', 'the URL does not decode: a % is not followed by two hex digits, or the bytes are not UTF-8'));
    return;
  }
  void sendProblem(reply, new Problem(400, 'E_INPUT', `the request was refused before routing: ${err.message}`));
}

/** A route path (`/v1/diagnoses/:id/segments/:n(^\\d+).png`) as a regular expression over concrete paths. */
function pathPattern(url: string): RegExp {
  let re = '';
  for (let i = 0; i < url.length;) {
    if (url[i] === ':') {
      const m = /^:[A-Za-z0-9_]+(\((?:[^()]|\([^()]*\))*\))?/.exec(url.slice(i))!;
      re += m[1] ? `(?:${m[1].slice(1, -1).replace(/^\^/, '').replace(/\$$/, '')})` : '[^/]+';
      i += m[0].length;
    } else {
      re += url[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * Which methods each path takes, learnt as routes are added: a request with another method
 * gets 405 and an Allow header instead of 404.
 */
export class AllowedMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  watch(app: FastifyInstance): void {
    app.addHook('onRoute', (route: RouteOptions) => {
      // the catch-all OPTIONS route answers every path; it says nothing about which take what
      if (route.url === '*') return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const pattern = pathPattern(route.url);
      const known = this.routes.find((r) => r.pattern.source === pattern.source);
      if (known) for (const m of methods) known.methods.add(m);
      else this.routes.push({ pattern, methods: new Set(methods) });
    });
  }

  /** The methods `path` takes, or [] when no route has it. */
  of(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}
