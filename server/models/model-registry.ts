import type { Db } from '../db/database.js';
import { readSetting, writeSetting } from '../db/migrations.js';
import { TosiaError } from '../../runtime/index.js';
import { Problem } from '../problem.js';
import type { ServedModel } from './served-models.js';

const DEFAULT_KEY = 'default_model';

/**
 * The models this server serves and which one is the default: the first --model, until an admin
 * promotes another (PUT /v1/models/default). A promotion is kept in the database, so every
 * replica on it follows it within `refreshMs` and a restart keeps it, as long as the promoted
 * model is still served; one that is not served here is ignored (logged), never guessed at.
 */
export class ModelRegistry {
  private defaultName: string;
  private refresher: NodeJS.Timeout | null = null;

  /** Scores every recording beside the model that answers (--shadow NAME); never answered with. */
  readonly shadow: ServedModel | null;

  constructor(
    readonly models: readonly ServedModel[],
    private readonly db: Db,
    private readonly log: (msg: string, extra: Record<string, unknown>) => void,
    shadow: string | null = null,
  ) {
    if (models.length === 0) throw new Error('a server serves at least one model');
    this.defaultName = models[0]!.name;
    this.shadow = shadow === null ? null : this.get(shadow) ?? null;
    if (shadow !== null && this.shadow === null) throw new TosiaError('E_CONFIG', `--shadow ${shadow} is not a served model (serving ${this.names.join(', ')})`, { stage: 'config', hint: `serve it too: --model ${shadow}=PATH --shadow ${shadow}` });
  }

  /** The shadow model for a record made with `own`: none when the record's own model is the shadow. */
  shadowFor(own: ServedModel | undefined): ServedModel | null {
    return this.shadow !== null && this.shadow.name !== own?.name ? this.shadow : null;
  }

  get default(): ServedModel {
    return this.get(this.defaultName)!;
  }

  get(name: string): ServedModel | undefined {
    return this.models.find((m) => m.name === name);
  }

  get names(): string[] {
    return this.models.map((m) => m.name);
  }

  /** The model a request names (?model=), or the default; an unknown name is the client's error. */
  choose(name: string | undefined, field = 'querystring.model', status = 400): ServedModel {
    if (name === undefined) return this.default;
    const m = this.get(name);
    if (!m) throw new Problem(status, 'E_INPUT', `${field} ${JSON.stringify(name)} is not a model this server serves`, { errors: [{ field, message: `one of: ${this.names.join(', ')} (GET /v1/models lists them)` }] });
    return m;
  }

  /** The model that runs a stored record: the one it names, or (records made before models were named) the default. */
  forRecord(name: string | null): ServedModel | undefined {
    return name === null ? this.default : this.get(name);
  }

  /** Read the promoted default from the database, then follow it every `refreshMs`. */
  async start(refreshMs = 5000): Promise<void> {
    await this.refresh();
    this.refresher ??= setInterval(() => void this.refresh().catch((e) => this.log('reading the default model failed', { error: (e as Error).message })), refreshMs);
    this.refresher.unref();
  }

  async refresh(): Promise<void> {
    const promoted = await readSetting(this.db, DEFAULT_KEY);
    if (promoted === null || promoted === this.defaultName) return;
    if (this.get(promoted)) this.defaultName = promoted;
    else this.log('the promoted default model is not served here; keeping this one', { promoted, default: this.defaultName });
  }

  /** Make a served model the default, for every replica on this database. */
  async promote(name: string): Promise<ServedModel> {
    const m = this.choose(name, 'body.name', 422);
    await writeSetting(this.db, DEFAULT_KEY, m.name);
    this.defaultName = m.name;
    return m;
  }

  stop(): void {
    if (this.refresher) clearInterval(this.refresher);
  }
}
