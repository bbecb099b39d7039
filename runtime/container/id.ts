/**
 * id.ts validates container ids as runc does: letters, digits, `_`, `+`, `,`, `-` and `.`
 * (runc's `^[\w+-\.]+$`), never `.` or `..`. The id names a directory under --root, so
 * it is also held to NAME_MAX (255 bytes).
 */
import { InvalidIDError } from './errors';

const ID_RE = /^[A-Za-z0-9_+,.-]+$/;

/** validateID throws InvalidIDError unless `id` is usable as a container id. */
export function validateID(id: string): string {
  if (id === '') throw new InvalidIDError(id, 'must not be empty');
  if (!ID_RE.test(id)) throw new InvalidIDError(id, 'only letters, digits and _ + , - . are allowed');
  if (id === '.' || id === '..') throw new InvalidIDError(id, 'must not be . or ..');
  if (id.length > 255) throw new InvalidIDError(id, 'must be at most 255 characters');
  return id;
}
