import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { DoctorCheck } from '../../runtime/index.js';
import { AUDIO_BUCKET, STREAM_JOBS, STREAM_RESULTS, WORKERS_CONSUMER } from './protocol.js';

/**
 * `tosia doctor --queue URL`: the connection, JetStream, the two streams, the audio bucket and
 * the workers' consumer (what waits, what is held, how many workers are pulling). It only
 * reads: the first worker or submitter creates what is missing.
 */
export async function queueChecks(url: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 5000, reconnect: false, name: 'tosia-doctor' });
  } catch (e) {
    return [{ name: 'queue', ok: false, detail: `cannot connect to NATS at ${url}: ${(e as Error).message}` }];
  }
  try {
    checks.push({ name: 'queue', ok: true, detail: `NATS ${nc.info?.version ?? '?'} at ${url}` });
    let jsm;
    try {
      jsm = await jetstreamManager(nc);
      const a = await jsm.getAccountInfo();
      checks.push({ name: 'jetstream', ok: true, detail: `enabled; ${a.streams} stream(s), ${(a.storage / 1048576).toFixed(1)} MB stored` });
    } catch (e) {
      checks.push({ name: 'jetstream', ok: false, detail: `not available: ${(e as Error).message} (start nats-server with -js)` });
      return checks;
    }
    const absent = 'absent: the first worker or submitter creates it';
    for (const [name, stream] of [['jobs', STREAM_JOBS], ['results', STREAM_RESULTS], ['audio', `OBJ_${AUDIO_BUCKET}`]] as const) {
      try {
        const s = await jsm.streams.info(stream);
        checks.push({ name: `queue ${name}`, ok: true, detail: `${stream}: ${s.state.messages} message(s), ${(s.state.bytes / 1048576).toFixed(1)} MB, ${s.config.storage} storage` });
      } catch {
        // no such stream yet: normal before the first worker or submitter, and said in the check
        checks.push({ name: `queue ${name}`, ok: true, detail: `${stream} ${absent}` });
      }
    }
    try {
      const c = await jsm.consumers.info(STREAM_JOBS, WORKERS_CONSUMER);
      checks.push({
        name: 'queue workers', ok: true,
        detail: `${c.num_pending} job(s) waiting, ${c.num_ack_pending} held by workers, ${c.num_redelivered} redelivered, ${c.num_waiting} pull(s) open; ack_wait ${(c.config.ack_wait ?? 0) / 1e9} s, max_deliver ${c.config.max_deliver}`,
      });
    } catch {
      // no such consumer yet: normal before the first worker, and said in the check
      checks.push({ name: 'queue workers', ok: true, detail: `consumer ${WORKERS_CONSUMER} ${absent}` });
    }
    return checks;
  } finally {
    await nc.close().catch(() => undefined);
  }
}
