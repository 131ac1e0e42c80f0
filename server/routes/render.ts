import type { RecordStore, Row } from '../db/record-store.js';
import type { Diagnosis } from '../schemas/diagnosis.js';

/**
 * A stored row as the API shows it. `result` is left out when not asked for: a list shows the
 * outcome, which is what a page of records needs, unless ?include=result.
 */
export function renderRecord(row: Row, flags: string[], extra: { deduplicated?: boolean; result?: boolean } = {}): Diagnosis {
  const self = `/v1/diagnoses/${row.id}`;
  const purged = row.audio_purged_at !== null;
  return {
    id: row.id,
    external_id: row.external_id,
    status: row.status,
    ...(extra.deduplicated !== undefined ? { deduplicated: extra.deduplicated } : {}),
    created_at: row.created_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    attempts: Number(row.attempts),
    source: { filename: row.filename, content_type: row.content_type, size_bytes: Number(row.size_bytes), sha256: row.sha256 },
    config_sha256: row.config_sha256,
    model_sha256: row.model_sha256,
    model: row.model,
    shadow: row.shadow_state === null ? null : { state: row.shadow_state, ...(row.shadow === null ? {} : (JSON.parse(row.shadow) as Record<string, unknown>)) } as Diagnosis['shadow'],
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    flags,
    outcome: row.status === 'done' && row.label !== null ? { label: row.label, score: row.score === null ? null : Number(row.score), n_segments: Number(row.n_segments ?? 0) } : null,
    ...(extra.result === false ? {} : { result: row.result === null ? null : JSON.parse(row.result) }),
    error: row.error_code === null ? null : { code: row.error_code, stage: row.error_stage, message: row.error_message ?? '' },
    webhook: row.callback_url === null ? null : { url: row.callback_url, state: row.webhook_state, attempts: Number(row.webhook_attempts), last_error: row.webhook_error, at: row.webhook_at },
    audio_purged_at: row.audio_purged_at,
    links: {
      self,
      audio: purged ? null : `${self}/audio`,
      segments: Array.from({ length: Number(row.images) }, (_, n) => `${self}/segments/${n}.png`),
    },
  };
}

export async function renderOne(records: RecordStore, row: Row, extra: { deduplicated?: boolean; result?: boolean } = {}): Promise<Diagnosis> {
  const flags = (await records.flagsOf([row.id])).get(row.id) ?? [];
  return renderRecord(row, flags, extra);
}
