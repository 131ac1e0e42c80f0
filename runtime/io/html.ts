/** Text made safe inside HTML and SVG, in element content and in quoted attributes. */
export const escapeHtml = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
