/** The server layer: `tosia serve`, `tosia keys` and `tosia db`. It imports only the runtime. */
export { createServer, TosiaServer, DEFAULTS, type ServerOptions } from './server.js';
export { createKey, listKeys, revokeKey, dbMigrate, dbStatus, type StoreLocation } from './admin.js';
export { signature } from './work/webhook.js';
