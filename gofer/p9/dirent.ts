/**
 * Directory entries of Rreaddir: qid[13] offset[8] type[1] name[s], packed back to back.
 */
import { QID_SIZE, Reader, Writer, type Qid } from './wire';

/** Dirent is one entry of a 9P2000.L directory read. */
export interface Dirent {
  qid: Qid;
  /** offset is the cookie to pass to the next Treaddir to continue after this entry. */
  offset: bigint;
  /** type is the d_type (DT_REG, DT_DIR, ...). */
  type: number;
  name: string;
}

/** direntSize returns the encoded size of an entry named `name`. */
export function direntSize(name: string): number {
  return QID_SIZE + 8 + 1 + 2 + Buffer.byteLength(name, 'utf8');
}

/** encodeDirent appends one entry to w. */
export function encodeDirent(w: Writer, d: Dirent): void {
  w.qid(d.qid);
  w.u64Big(d.offset);
  w.u8(d.type);
  w.str(d.name);
}

/** decodeDirents parses the data of an Rreaddir; it throws on a malformed entry. */
export function decodeDirents(data: Buffer): Dirent[] {
  const r = new Reader(data);
  const out: Dirent[] = [];
  while (r.remaining > 0) {
    const qid = r.qid('dirent.qid');
    const offset = r.u64Big('dirent.offset');
    const type = r.u8('dirent.type');
    const name = r.str('dirent.name');
    if (!r.ok) throw new RangeError(`malformed directory entry: ${r.problem}`);
    out.push({ qid, offset, type, name });
  }
  return out;
}
