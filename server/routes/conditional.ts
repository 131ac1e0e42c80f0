import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Problem } from '../problem.js';

/**
 * Conditional requests (RFC 9110 §13): an ETag on records, reviews, images and audio; a client
 * that sends it back in If-None-Match gets 304 instead of the body, and a reviewer who sends it in
 * If-Match saves only over the version they saw.
 */

/** A strong validator for these bytes. */
export function etagOf(body: string | Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** The entity tags listed in an If-None-Match / If-Match header ("*" stays "*"). */
function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).filter(Boolean);
}

export const NoneMatchHeaders = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: 2000, description: 'an ETag this client holds: 304 with no body when it is still current' })),
});

export const MatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 2000, description: 'the ETag of the review this reviewer saw (GET /review), or * for "one exists": the save happens only if it is still current, else 412' })),
});

/**
 * Set the ETag; true when the client's If-None-Match already holds it, and the reply has been
 * made a 304 (the caller sends nothing more).
 */
export function ifNoneMatch(req: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag);
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  const held = tags(header);
  if (!held.includes('*') && !held.includes(etag)) return false;
  reply.code(304);
  return true;
}

/** Refuse (412) unless If-Match, when sent, names the current version (`null`: none exists). */
export function checkIfMatch(req: FastifyRequest, current: string | null, what: string): void {
  const header = req.headers['if-match'];
  if (header === undefined) return;
  const wanted = tags(header);
  if (current !== null && (wanted.includes('*') || wanted.includes(current))) return;
  if (current === null) throw new Problem(412, 'E_PRECONDITION', `${what} does not exist yet, so If-Match ${header} cannot match`, { hint: 'save without If-Match to make the first version' });
  throw preconditionFailed(what, header);
}

export function preconditionFailed(what: string, header: string): Problem {
  return new Problem(412, 'E_PRECONDITION', `${what} has changed since the version in If-Match (${header}): someone else saved first`, {
    hint: 'GET it again, decide on the current version, and send its ETag in If-Match',
  });
}
