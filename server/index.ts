/** The server layer: `tosia serve`, `tosia keys` and `tosia db`. It imports only the runtime. */
export { createServer, TosiaServer, DEFAULTS, type ServerOptions } from './server.js';
export { parseModelSpec, describeServedModels, type ModelSpec, type ServedModel } from './models/served-models.js';
export { createKey, listKeys, revokeKey, dbMigrate, dbStatus, type StoreLocation } from './admin.js';
export { ROLES } from './db/key-store.js';
export { signature } from './work/webhook.js';
export { apiDocument } from './openapi/print-document.js';
export { NatsPool, type NatsPoolOptions } from './queue/nats-pool.js';
export { runWorker, type WorkerOptions, type WorkerSummary } from './queue/worker.js';
export { QUEUE_DEFAULTS, type QueueSettings } from './queue/topology.js';
export { queueChecks } from './queue/queue-doctor.js';
export { objectSource, type ObjectSourceOptions } from './audio-store/object-source.js';
export { migrateAudioUrls, type MigrateEvent, type MigrateSummary, type MigrateOptions } from './audio-store/migrate.js';
