import { buildApp } from '../app.js';
import { DEFAULTS } from '../server.js';
import type { Services } from '../services.js';

/**
 * The OpenAPI document the server serves at /openapi.json, made without a database, a store or
 * a model: the routes are registered on an app whose services only say what they are not.
 * `tosia serve --openapi` prints it; the build generates the typed client (tosia/client) from it.
 */
export async function apiDocument(): Promise<object> {
  const only = { maxUploadBytes: DEFAULTS.maxUploadMb * 1048576 } as Partial<Services>;
  const services = new Proxy(only, {
    get(t, k) {
      if (k in t) return t[k as keyof Services];
      throw new Error(`describing the API needs no ${String(k)}: a route used a service while being registered`);
    },
  }) as Services;
  const app = await buildApp({ services });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}
