/**
 * The review page served by `tosia serve` at `/`: it calls only the public API, with the key the
 * user gives once (kept in sessionStorage). Routes live in the URL hash: #/ (the list),
 * #/d/<id> (a diagnosis), #/upload and #/models (the served models and their evaluations).
 */

interface Segment { index: number; start_s: number; end_s: number; probabilities: Record<string, number>; cough_score: number; excluded: boolean; exclude_reason: string | null }
interface Result {
  source: { path: string; duration_s: number; sample_rate: number | null; codec: string; sha256: string };
  model: { name: string; version: string; sha256: string; labels: string[] };
  config_sha256: string; segments: Segment[]; warnings: string[];
  diagnosis: { label: string; score: number | null; positive_label: string; n_segments: number };
  quality: { flags: string[]; snr_db: number | null; peak_dbfs: number; clipped_fraction: number; truncated_missing_s?: number | null; corrupt_spans?: { start_s: number; end_s: number }[] };
}
interface Outcome { label: string; score: number | null; n_segments: number }
interface Shadow { state: 'pending' | 'done' | 'failed'; model?: string; label?: string; score?: number | null; error?: { code: string; message: string } }
interface Diagnosis { id: string; external_id: string | null; status: string; created_at: string; source: { filename: string | null }; flags: string[]; outcome: Outcome | null; result?: Result | null; error: { code: string; message: string } | null; links: { audio: string | null }; model?: string | null; shadow?: Shadow | null }
interface ServedModel { name: string; version: string; sha256: string; labels: string[]; default: boolean; shadow: boolean; shadow_agreement: { compared: number; agreeing: number; rate: number | null } | null }
interface Measured { value: number | null; ci95: [number, number] | null }
interface Evaluation { id: string; status: string; model: string; baseline: string; created_at: string; records: number | null; metrics: Record<string, { n: number; auc: Measured; pr_auc: Measured }> | null; error: { code: string; message: string } | null }
interface Review { reviewed: boolean; label: string | null; not_cough: number[]; added: { start_s: number; end_s: number }[]; note: string | null; reviewer?: string; reviewed_at?: string }

const main = document.getElementById('main')!;
const KEY = 'tosia-key';

function h(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const key = sessionStorage.getItem(KEY);
  const headers = new Headers(init.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) {
    askKey('The server needs an API key.');
    throw new Error('an API key is needed');
  }
  return res;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await api(path, init);
  const body = await res.json();
  if (!res.ok) throw new Error(body.detail ?? `${res.status}`);
  return body as T;
}

function askKey(why = ''): void {
  const input = h('input', { type: 'password', id: 'key', autocomplete: 'off', 'aria-label': 'API key' }) as HTMLInputElement;
  const form = h('form', { class: 'review' }, h('p', {}, why || 'Enter an API key (kept in this tab only).'), h('label', { for: 'key' }, 'API key '), input, ' ', h('button', { type: 'submit' }, 'Use it'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    void route();
  });
  main.replaceChildren(form);
  input.focus();
}

/** A record id as the API makes them (UUIDv7): anything else from the URL is never put in a request path. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The elements and attributes tosia's figure uses: anything else in a fetched SVG is dropped. */
const SVG_ALLOWED: Record<string, readonly string[]> = {
  svg: ['viewBox', 'width', 'height', 'role', 'aria-label'],
  image: ['href', 'x', 'y', 'width', 'height', 'preserveAspectRatio'],
  rect: ['class', 'data-index', 'data-start', 'data-end', 'x', 'y', 'width', 'height', 'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray'],
  line: ['class', 'x1', 'y1', 'x2', 'y2', 'stroke', 'stroke-width', 'stroke-dasharray', 'visibility'],
  text: ['x', 'y', 'font-size', 'text-anchor', 'fill', 'transform'],
  // an evaluation's curves
  polyline: ['points', 'fill', 'stroke', 'stroke-width', 'stroke-dasharray'],
  polygon: ['points', 'fill', 'fill-opacity', 'stroke'],
  circle: ['cx', 'cy', 'r', 'fill', 'fill-opacity', 'stroke'],
  title: [],
};

/**
 * The figure, rebuilt element by element from an allow-list: fetched text is never put into the
 * page as markup, so a response that is not tosia's figure (a stored upload, say) can carry no
 * script, handler or link. An image may only be an inline PNG.
 */
function safeSvg(text: string): SVGSVGElement | null {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== 'svg' || doc.querySelector('parsererror')) return null;
  const copy = (from: Element): Element | null => {
    const allowed = SVG_ALLOWED[from.localName];
    if (from.namespaceURI !== SVG_NS || !allowed) return null;
    const to = document.createElementNS(SVG_NS, from.localName);
    for (const name of allowed) {
      const v = from.getAttribute(name);
      if (v === null) continue;
      if (name === 'href' && !/^data:image\/png;base64,[A-Za-z0-9+/=]+$/.test(v)) continue;
      to.setAttribute(name, v);
    }
    for (const child of from.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) to.append(child.textContent ?? '');
      else if (child.nodeType === Node.ELEMENT_NODE) {
        const c = copy(child as Element);
        if (c) to.append(c);
      }
    }
    return to;
  };
  return copy(root) as SVGSVGElement | null;
}

const fmtTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

const FLAG_WORDS: Record<string, string> = {
  clipped: 'clipped: samples at full scale', too_quiet: 'too quiet', too_short: 'too short', low_snr: 'low signal-to-noise', no_cough: 'no cough found',
  truncated: 'truncated: the end of the recording is missing', corrupt: 'corrupt: damaged stretches were dropped',
};

// ---- the list ----

let cursor: string | null = null;
let selected = 0;

async function list(more = false): Promise<void> {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  if (!more) {
    cursor = null;
    selected = 0;
    const field = (name: string, label: string, options?: string[]) => {
      const input = options
        ? h('select', { name }, ...['', ...options].map((o) => { const opt = h('option', { value: o }, o || 'any'); if (params.get(name) === o) opt.setAttribute('selected', ''); return opt; }))
        : h('input', { name, value: params.get(name) ?? '', type: 'search' });
      return h('label', {}, label, input);
    };
    const form = h('form', { class: 'filters', role: 'search' },
      field('status', 'status', ['queued', 'running', 'done', 'failed']), field('label', 'label'), field('flag', 'flag', Object.keys(FLAG_WORDS)), field('external_id', 'external id'),
      h('button', { type: 'submit' }, 'Filter'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      for (const [k, v] of new FormData(form as HTMLFormElement)) if (v) q.set(k, String(v));
      location.hash = `#/?${q}`;
    });
    main.replaceChildren(h('h2', {}, 'Diagnoses'), form, h('table', { id: 'list' }, h('thead', {}, h('tr', {}, ...['time', 'external id', 'file', 'label', 'score', 'coughs', 'flags', 'shadow'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody')),
      h('p', { class: 'muted' }, 'j / k to move, Enter to open.'));
  }
  const q = new URLSearchParams(params);
  q.set('limit', '50');
  if (cursor) q.set('cursor', cursor);
  const page = await json<{ items: Diagnosis[]; next_cursor: string | null }>(`/v1/diagnoses?${q}`);
  // the reader may have gone elsewhere while the page loaded
  const tbody = main.querySelector('#list tbody');
  if (!tbody) return;
  for (const d of page.items) {
    const o = d.outcome;
    const tr = h('tr', { 'data-id': d.id, tabindex: '-1' },
      h('td', {}, fmtTime(d.created_at)), h('td', {}, d.external_id ?? ''), h('td', {}, d.source.filename ?? ''),
      h('td', {}, o ? o.label : d.status), h('td', {}, o?.score == null ? '' : o.score.toFixed(3)),
      h('td', {}, o ? String(o.n_segments) : ''), h('td', {}, d.flags.join(' ')), h('td', { class: 'shadow' }, shadowCell(d.shadow)));
    tr.addEventListener('click', () => (location.hash = `#/d/${d.id}`));
    tbody.append(tr);
  }
  main.querySelector('#more')?.remove();
  cursor = page.next_cursor;
  if (cursor) {
    const more = h('button', { id: 'more', type: 'button' }, 'More');
    more.addEventListener('click', () => void list(true));
    main.append(more);
  }
  select(selected);
}

function select(i: number): void {
  const rows = [...main.querySelectorAll<HTMLElement>('#list tbody tr')];
  if (rows.length === 0) return;
  selected = Math.max(0, Math.min(rows.length - 1, i));
  rows.forEach((r, k) => r.classList.toggle('sel', k === selected));
  rows[selected]!.focus();
}

document.addEventListener('keydown', (e) => {
  if (!main.querySelector('#list') || (e.target as HTMLElement).closest('input, select, textarea')) return;
  if (e.key === 'j') select(selected + 1);
  else if (e.key === 'k') select(selected - 1);
  else if (e.key === 'Enter') {
    const row = main.querySelectorAll<HTMLElement>('#list tbody tr')[selected];
    if (row) location.hash = `#/d/${row.dataset.id}`;
  }
});

// ---- one diagnosis ----

async function detail(id: string): Promise<void> {
  const d = await json<Diagnosis>(`/v1/diagnoses/${id}`);
  const r = d.result;
  if (!r) {
    main.replaceChildren(h('h2', {}, d.source.filename ?? d.id), h('p', {}, `Status: ${d.status}`), d.error ? h('p', { class: 'error' }, `${d.error.code}: ${d.error.message}`) : '');
    return;
  }
  const reviewRes = await api(`/v1/diagnoses/${id}/review`);
  const review: Review = reviewRes.ok ? await reviewRes.json() : { reviewed: false, label: null, not_cough: [], added: [], note: null };
  // saves go only over the version shown: another reviewer's save in between is a 412, not overwritten
  let version = reviewRes.ok ? reviewRes.headers.get('etag') : null;
  const audio = h('audio', { controls: '', preload: 'auto', 'aria-label': 'the recording' }) as HTMLAudioElement;
  if (d.links.audio) void api(d.links.audio).then((res) => res.blob()).then((b) => { audio.src = URL.createObjectURL(b); });
  const figure = h('div', { class: 'figure' });
  const figureRes = await api(`/v1/diagnoses/${id}/figure.svg`);
  const svg = figureRes.ok && /^image\/svg\+xml\b/.test(figureRes.headers.get('content-type') ?? '') ? safeSvg(await figureRes.text()) : null;
  if (svg) figure.append(svg);
  else figure.append(h('p', { class: 'error' }, 'The figure could not be drawn.'));
  const dur = r.source.duration_s;
  const width = svg?.viewBox.baseVal.width ?? 1;
  let stopAt: number | null = null;
  const play = (a: number, b: number) => { audio.currentTime = a; stopAt = b; void audio.play(); };
  svg?.querySelectorAll<SVGRectElement>('rect.seg').forEach((rect) => rect.addEventListener('click', () => play(Number(rect.dataset.start), Number(rect.dataset.end))));
  const head = svg?.querySelector('.playhead');
  audio.addEventListener('timeupdate', () => {
    if (stopAt !== null && audio.currentTime >= stopAt) { audio.pause(); stopAt = null; }
    const x = String((audio.currentTime / dur) * width);
    head?.setAttribute('x1', x); head?.setAttribute('x2', x); head?.setAttribute('visibility', 'visible');
  });

  // review: segments not a cough, coughs added by dragging across the figure
  const notCough = new Set(review.not_cough);
  const added = [...review.added];
  const addedLayer = document.createElementNS('http://www.w3.org/2000/svg', 'g');
  svg?.append(addedLayer);
  const drawAdded = () => {
    addedLayer.replaceChildren(...added.map((a) => {
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      rect.setAttribute('class', 'added');
      for (const [k, v] of Object.entries({ x: (a.start_s / dur) * width, y: 4, width: Math.max(2, ((a.end_s - a.start_s) / dur) * width), height: (svg!.viewBox.baseVal.height - 30) })) rect.setAttribute(k, String(v));
      return rect;
    }));
    addedList.replaceChildren(...added.map((a, i) => {
      const remove = h('button', { type: 'button' }, 'remove');
      remove.addEventListener('click', () => { added.splice(i, 1); drawAdded(); });
      return h('li', {}, `${a.start_s.toFixed(2)}–${a.end_s.toFixed(2)} s `, remove);
    }));
  };
  const addedList = h('ul', { id: 'added' });
  let dragFrom: number | null = null;
  const timeAt = (e: MouseEvent) => {
    const box = svg!.getBoundingClientRect();
    return Math.max(0, Math.min(dur, ((e.clientX - box.left) / box.width) * (width / width) * dur));
  };
  svg?.addEventListener('mousedown', (e) => { if (!(e.target as Element).classList.contains('seg')) dragFrom = timeAt(e); });
  svg?.addEventListener('mouseup', (e) => {
    if (dragFrom === null) return;
    const to = timeAt(e);
    const [a, b] = [Math.min(dragFrom, to), Math.max(dragFrom, to)];
    dragFrom = null;
    if (b - a < 0.05) return;
    added.push({ start_s: Number(a.toFixed(3)), end_s: Number(b.toFixed(3)) });
    added.sort((x, y) => x.start_s - y.start_s);
    drawAdded();
  });

  const labels = r.model.labels;
  const rows = r.segments.map((s) => {
    const box = h('input', { type: 'checkbox', 'aria-label': `segment ${s.index} is not a cough` }) as HTMLInputElement;
    box.checked = notCough.has(s.index);
    box.addEventListener('change', () => (box.checked ? notCough.add(s.index) : notCough.delete(s.index)));
    const tr = h('tr', { 'data-index': String(s.index), tabindex: '0' },
      h('td', {}, String(s.index)), h('td', {}, s.start_s.toFixed(2)), h('td', {}, s.end_s.toFixed(2)),
      ...labels.map((l) => h('td', {}, (s.probabilities[l] ?? 0).toFixed(3))), h('td', {}, s.cough_score.toFixed(3)),
      h('td', {}, s.excluded ? `yes${s.exclude_reason ? `: ${s.exclude_reason}` : ''}` : ''), h('td', {}, box));
    const light = (on: boolean) => svg?.querySelector(`rect.seg[data-index="${s.index}"]`)?.classList.toggle('hot', on);
    tr.addEventListener('mouseenter', () => light(true)); tr.addEventListener('mouseleave', () => light(false));
    tr.addEventListener('focus', () => light(true)); tr.addEventListener('blur', () => light(false));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === tr) play(s.start_s, s.end_s); });
    return tr;
  });
  const reviewed = h('input', { type: 'checkbox', id: 'reviewed' }) as HTMLInputElement;
  reviewed.checked = review.reviewed;
  const label = h('select', { id: 'label' }, ...['', ...labels, 'no_cough'].map((l) => { const o = h('option', { value: l }, l || `the model's (${r.diagnosis.label})`); if ((review.label ?? '') === l) o.setAttribute('selected', ''); return o; })) as HTMLSelectElement;
  const note = h('textarea', { id: 'note', rows: '2', cols: '60' }, review.note ?? '') as HTMLTextAreaElement;
  const status = h('span', { role: 'status', id: 'saved' }, review.reviewed_at ? `saved ${fmtTime(review.reviewed_at)} by ${review.reviewer}` : '');
  const save = h('button', { type: 'submit' }, 'Save review');
  const form = h('form', { class: 'review' }, h('h3', {}, 'Review'),
    h('p', {}, reviewed, ' ', h('label', { for: 'reviewed' }, 'reviewed')), h('p', {}, h('label', { for: 'label' }, 'label '), label),
    h('p', { class: 'muted' }, 'Tick "not a cough" in the table; drag across the figure to add a cough the segmenter missed.'), h('p', {}, 'Added coughs:'), addedList,
    h('p', {}, h('label', { for: 'note' }, 'note '), note), save, ' ', status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void api(`/v1/diagnoses/${id}/review`, {
      method: 'PUT', headers: { 'content-type': 'application/json', ...(version ? { 'if-match': version } : {}) },
      body: JSON.stringify({ reviewed: reviewed.checked, label: label.value || null, not_cough: [...notCough], added, note: note.value || null }),
    }).then(async (res) => {
      const body = await res.json();
      if (res.status === 412) throw new Error('another reviewer saved this record since you opened it; reload it to see their review');
      if (!res.ok) throw new Error(body.detail ?? `${res.status}`);
      version = res.headers.get('etag');
      const saved = body as Review;
      status.textContent = `saved ${fmtTime(saved.reviewed_at!)} by ${saved.reviewer}`;
    }).catch((err: Error) => { status.textContent = `not saved: ${err.message}`; });
  });
  drawAdded();
  const q = r.quality;
  const flags = q.flags.map((f) => h('li', {}, f === 'truncated' && q.truncated_missing_s != null ? `truncated: ${q.truncated_missing_s} s missing at the end` : FLAG_WORDS[f] ?? f));
  const raw = h('button', { type: 'button' }, 'Raw JSON');
  raw.addEventListener('click', () => void api(`/v1/diagnoses/${id}`).then((res) => res.blob()).then((b) => window.open(URL.createObjectURL(b), '_blank')));
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← all diagnoses')),
    h('h2', {}, r.source.path),
    h('p', {}, h('strong', {}, r.diagnosis.label), r.diagnosis.score === null ? '' : ` · score ${r.diagnosis.score.toFixed(3)}`, ` · ${r.diagnosis.n_segments} segments · ${r.source.duration_s.toFixed(2)} s`, d.model ? ` · model ${d.model}` : ''),
    d.shadow ? h('p', { id: 'shadow', class: 'muted' }, shadowText(d.shadow)) : '',
    audio, figure,
    flags.length ? h('ul', { class: 'flags' }, ...flags) : h('p', {}, 'No quality flags.'),
    r.warnings.length ? h('details', {}, h('summary', {}, `${r.warnings.length} warnings`), h('ul', {}, ...r.warnings.map((w) => h('li', {}, w)))) : '',
    h('table', { id: 'segments' }, h('thead', {}, h('tr', {}, ...['#', 'start s', 'end s', ...labels.map((l) => `p(${l})`), 'cough score', 'excluded', 'not a cough'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, ...rows)),
    form,
    h('p', { class: 'muted' }, `Model ${r.model.name} ${r.model.version} (sha256 ${r.model.sha256.slice(0, 12)}) · config ${r.config_sha256.slice(0, 12)} · source sha256 ${r.source.sha256.slice(0, 12)} `, raw),
  );
}

/** The shadow model's verdict in a list cell: its label and score, or where it stands. */
function shadowCell(s: Shadow | null | undefined): string {
  if (!s) return '';
  if (s.state !== 'done') return s.state === 'pending' ? 'pending' : 'failed';
  return `${s.label}${s.score == null ? '' : ` ${s.score.toFixed(3)}`}`;
}

/** The shadow model's verdict in words: never shown as the diagnosis. */
function shadowText(s: Shadow): string {
  const who = `Shadow model ${s.model ?? ''}`.trimEnd();
  if (s.state === 'pending') return `${who}: not scored yet`;
  if (s.state === 'failed') return `${who}: could not score it (${s.error?.code ?? 'error'}: ${s.error?.message ?? ''})`;
  return `${who}: ${s.label}${s.score == null ? '' : ` · score ${s.score.toFixed(3)}`} (not the diagnosis)`;
}

// ---- models and evaluations ----

const fmtMeasured = (m: Measured | undefined) => (m?.value == null ? '–' : `${m.value.toFixed(3)}${m.ci95 ? ` (${m.ci95[0].toFixed(3)}–${m.ci95[1].toFixed(3)})` : ''}`);

async function models(): Promise<void> {
  const [{ items }, evals] = await Promise.all([json<{ items: ServedModel[] }>('/v1/models'), json<{ items: Evaluation[] }>('/v1/evaluations')]);
  const rows = items.map((m) => h('tr', { 'data-model': m.name },
    h('td', {}, m.name), h('td', {}, m.version), h('td', {}, m.sha256.slice(0, 12)), h('td', {}, m.labels.join(', ')),
    h('td', {}, m.default ? 'default' : m.shadow ? 'shadow' : ''),
    h('td', {}, m.shadow_agreement ? (m.shadow_agreement.rate === null ? 'nothing scored yet' : `${(m.shadow_agreement.rate * 100).toFixed(1)} % of ${m.shadow_agreement.compared}`) : '')));
  const pick = h('select', { id: 'eval-model', name: 'model' }, ...items.map((m) => h('option', { value: m.name }, m.name))) as HTMLSelectElement;
  const started = h('span', { role: 'status', id: 'eval-started' });
  const form = h('form', { class: 'review', id: 'evaluate' }, h('label', { for: 'eval-model' }, 'Measure '), pick, ' on the reviewed records ', h('button', { type: 'submit' }, 'Evaluate'), ' ', started);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void json<Evaluation>('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: pick.value }), headers: { 'content-type': 'application/json' } })
      .then((ev) => { started.textContent = `evaluation ${ev.id} ${ev.status}`; setTimeout(() => void route(), 1500); }, (err: Error) => { started.textContent = err.message; });
  });
  const cards = await Promise.all(evals.items.map(async (e) => {
    const names = e.metrics ? Object.keys(e.metrics) : [];
    const table = e.metrics ? h('table', {}, h('thead', {}, h('tr', {}, ...['model', 'records', 'ROC AUC (95 % CI)', 'PR AUC (95 % CI)'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...names.map((n) => h('tr', {}, h('td', {}, n === e.baseline ? `${n} (baseline)` : n), h('td', {}, String(e.metrics![n]!.n)), h('td', {}, fmtMeasured(e.metrics![n]!.auc)), h('td', {}, fmtMeasured(e.metrics![n]!.pr_auc)))))) : '';
    const figures = h('div', { class: 'figures' });
    if (e.status === 'done' && ID.test(e.id)) {
      for (const n of names) {
        const res = await api(`/v1/evaluations/${e.id}/roc.svg?model=${encodeURIComponent(n)}`);
        const svg = res.ok ? safeSvg(await res.text()) : null;
        if (svg) figures.append(h('figure', {}, svg, h('figcaption', {}, `ROC of ${n}`)));
      }
    }
    return h('section', { class: 'evaluation', 'data-id': e.id },
      h('h3', {}, `${e.model} beside ${e.baseline} · ${e.status}`), h('p', { class: 'muted' }, `${fmtTime(e.created_at)}${e.records === null ? '' : ` · ${e.records} reviewed records`}`),
      e.error ? h('p', { class: 'error' }, `${e.error.code}: ${e.error.message}`) : '', table, figures);
  }));
  main.replaceChildren(h('h2', {}, 'Models'),
    h('table', { id: 'models' }, h('thead', {}, h('tr', {}, ...['name', 'version', 'sha256', 'labels', 'role', 'agrees with the answer'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, ...rows)),
    h('h2', {}, 'Evaluations'), form, ...(cards.length ? cards : [h('p', {}, 'No evaluation yet.')]));
}

// ---- upload ----

function upload(): void {
  const input = h('input', { type: 'file', id: 'file', accept: 'audio/*,.wav,.mp3,.ogg,.opus,.flac,.m4a,.webm' }) as HTMLInputElement;
  const drop = h('div', { class: 'drop', id: 'drop' }, 'Drop a recording here, or ', h('label', { for: 'file' }, 'choose one: '), input);
  const log = h('ol', { id: 'uploads', 'aria-live': 'polite' });
  const send = async (file: File) => {
    const li = h('li', {}, `${file.name}: uploading`);
    log.append(li);
    try {
      const res = await api(`/v1/diagnoses?wait=0&filename=${encodeURIComponent(file.name)}`, { method: 'POST', body: file, headers: { 'content-type': file.type.startsWith('audio/') ? file.type : 'audio/octet-stream' } });
      let d = (await res.json()) as Diagnosis & { record?: Diagnosis; detail?: string };
      if (!res.ok && !d.record) throw new Error(d.detail ?? String(res.status));
      d = d.record ?? d;
      for (;;) {
        li.textContent = `${file.name}: ${d.status}`;
        if (d.status === 'done' || d.status === 'failed') break;
        d = await json<Diagnosis>(`/v1/diagnoses/${d.id}?wait=5`);
      }
      li.append(' ', h('a', { href: `#/d/${d.id}` }, 'open'));
    } catch (e) {
      li.textContent = `${file.name}: not uploaded (${(e as Error).message})`;
      li.classList.add('error');
    }
  };
  input.addEventListener('change', () => { for (const f of input.files ?? []) void send(f); });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    for (const f of e.dataTransfer?.files ?? []) void send(f);
  });
  main.replaceChildren(h('h2', {}, 'Upload'), drop, log);
}

// ---- routing ----

/** The route being shown: a view that finishes loading after the reader went elsewhere shows nothing, not even its error. */
let routing = 0;

async function route(): Promise<void> {
  const hash = location.hash || '#/';
  const seq = ++routing;
  try {
    if (hash.startsWith('#/d/')) {
      const id = hash.slice(4).split('?')[0]!;
      if (!ID.test(id)) throw new Error(`"${id.slice(0, 80)}" is not a diagnosis id`);
      await detail(id);
    }
    else if (hash.startsWith('#/upload')) upload();
    else if (hash.startsWith('#/models')) await models();
    else await list();
  } catch (e) {
    if (seq === routing && !main.querySelector('#key')) main.replaceChildren(h('p', { class: 'error', role: 'alert' }, (e as Error).message));
  }
}

document.getElementById('key-button')!.addEventListener('click', () => askKey());
window.addEventListener('hashchange', () => void route());
void route();
