/** What a spreadsheet takes for the start of a formula (OWASP, CSV injection). */
const FORMULA = /^[=+\-@\t\r]/;

/**
 * RFC 4180: quote a field when it holds a comma, quote, CR or LF; double embedded quotes. A text
 * cell that a spreadsheet would run as a formula (a file name or label starting with =, +, -, @,
 * a tab or CR) is neutralised as OWASP says: a leading ' and quotes. parseCsv takes it off again.
 * Numbers are written as numbers.
 */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  if (typeof v !== 'number' && FORMULA.test(s)) return `"'${s.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** A field csvField neutralised, as it was written. */
const unformula = (field: string) => (field.startsWith("'") && FORMULA.test(field.slice(1)) ? field.slice(1) : field);

/** Parse RFC 4180 CSV text into rows of fields (a cell csvField neutralised comes back as written). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(unformula(field)); field = ''; i++; continue; }
    if (c === '\r' || c === '\n') {
      row.push(unformula(field)); rows.push(row); row = []; field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c; i++;
  }
  if (field !== '' || row.length > 0) { row.push(unformula(field)); rows.push(row); }
  return rows;
}
