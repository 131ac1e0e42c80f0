/**
 * RFC 3339 times as instants. Records keep created_at as UTC with milliseconds
 * (2026-12-06T21:57:34.123Z), which sort as strings; a filter time in any offset, with or
 * without a fraction, in either case, is brought to that form before it is compared.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/**
 * The instant as stored (UTC, milliseconds), rounding a finer fraction down (`floor`, for an
 * exclusive lower bound) or up (`ceil`, for an exclusive upper bound), so the comparison is
 * exact; null when it is not an RFC 3339 date-time.
 */
export function storedInstant(text: string, round: 'floor' | 'ceil'): string | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  if (day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return null;
  if (sign && (Number(oh) > 23 || Number(om ?? 0) > 59)) return null;
  const offsetMin = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om ?? 0)) : 0;
  const digits = (frac ?? '.').slice(1).padEnd(3, '0');
  let ms = Number(digits.slice(0, 3));
  if (round === 'ceil' && /[1-9]/.test(digits.slice(3))) ms += 1;
  const t = Date.UTC(Number(y), month - 1, day, hour, minute, Math.min(second, 59)) - offsetMin * 60_000 + ms;
  return new Date(t).toISOString();
}
