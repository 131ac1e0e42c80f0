import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../runtime/index.js';
import { Problem } from '../problem.js';

const TYPES: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8', 'style.css': 'text/css; charset=utf-8' };

/**
 * The review page (page/, built into dist/page by make build): served as files, open to all;
 * everything it shows comes from the API, with the key the user gives it.
 */
export function pageRoutes() {
  const dir = join(packageRoot(), 'dist/page');
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(TYPES)) {
    try {
      files.set(name, readFileSync(join(dir, name)));
    } catch {
      // not built: / says so
    }
  }
  const send = (name: string) => async (_req: unknown, reply: { type(t: string): { header(k: string, v: string): { send(b: Buffer): unknown } } }) => {
    const body = files.get(name);
    if (!body) throw new Problem(404, 'E_NOT_FOUND', `the review page is not built (${join(dir, name)} is missing)`, { hint: 'run make build' });
    return reply.type(TYPES[name]!).header('cache-control', 'no-cache').send(body);
  };
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/', { schema: { hide: true } }, send('index.html'));
    app.get('/page/app.js', { schema: { hide: true } }, send('app.js'));
    app.get('/page/style.css', { schema: { hide: true } }, send('style.css'));
  };
}
