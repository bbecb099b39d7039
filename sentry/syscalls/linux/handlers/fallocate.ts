/**
 * fallocate: the modes tmpfs has on Linux (shmem_fallocate), for every regular file of
 * the sandbox: mode 0 extends the file to offset+len, FALLOC_FL_KEEP_SIZE leaves it as it
 * is, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE makes the range read as zeros. Other modes
 * are EOPNOTSUPP. Nothing is reserved: the sentry's memory file and the host files grow
 * when written (st_blocks does not count the reservation, and a punched range of a
 * gofer file is written with zeros rather than deallocated).
 */
import { Errno, fail } from '../../../kernel/errors';
import { checkFsize } from '../../../kernel/rlimit-checks';
import { TmpfsInode } from '../../../fsimpl/tmpfs/tmpfs';
import { Block } from '../../../kernel/waiter';
import { notifyModified } from '../../../vfs/fsnotify';
import { S_IFDIR, S_IFIFO, S_IFMT, S_IFREG } from '../../../vfs/inode';
import { define } from '../registry';
import { fdArg, file } from './util';

const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
/** FALLOC_FL_SUPPORTED_MASK is every mode bit Linux knows. */
const FALLOC_FL_SUPPORTED_MASK = 0x7f;
/** MAX_BYTES is the largest file size (Linux's s_maxbytes for tmpfs). */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;
const ZEROS = Buffer.alloc(1 << 20);

// fallocate(fd, mode, offset, len), with Linux's checks in vfs_fallocate's order.
define(285, (t, r) => {
  const f = file(t, fdArg(r, 0));
  const mode = r.argInt(1);
  const offset = BigInt.asIntN(64, r.arg(2)), len = BigInt.asIntN(64, r.arg(3));
  if (offset < 0n || len <= 0n) fail(Errno.EINVAL);
  if (mode & ~FALLOC_FL_SUPPORTED_MASK) fail(Errno.EOPNOTSUPP);
  if ((mode & FALLOC_FL_PUNCH_HOLE) && (mode & FALLOC_FL_ZERO_RANGE)) fail(Errno.EOPNOTSUPP);
  if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) fail(Errno.EOPNOTSUPP);
  if (!f.writable) fail(Errno.EBADF);
  const st = f.stat();
  const fmt = st.mode & S_IFMT;
  if (fmt === S_IFIFO) fail(Errno.ESPIPE);
  if (fmt === S_IFDIR) fail(Errno.EISDIR);
  if (fmt !== S_IFREG || !f.loc) fail(Errno.ENODEV);
  if (offset + len > BigInt(MAX_BYTES)) fail(Errno.EFBIG);
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) fail(Errno.EOPNOTSUPP);
  const start = Number(offset), end = Number(offset + len);
  // The file may not grow past RLIMIT_FSIZE (SIGXFSZ, EFBIG), as vfs_fallocate checks.
  if (!(mode & FALLOC_FL_KEEP_SIZE)) checkFsize(t, end);
  const inode = f.loc.dentry.inode;
  if (inode instanceof TmpfsInode) {
    // tmpfs stores and charges the pages (ENOSPC under size=) or gives a hole's back.
    if (mode & FALLOC_FL_PUNCH_HOLE) inode.punchHole(start, end - start);
    else inode.allocate(start, end - start, (mode & FALLOC_FL_KEEP_SIZE) !== 0);
    notifyModified(f);
    return 0;
  }
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    for (let at = start; at < Math.min(end, st.size);) {
      const n = f.write(t, ZEROS.subarray(0, Math.min(ZEROS.length, Math.min(end, st.size) - at)), at);
      if (n instanceof Block || n <= 0) fail(n instanceof Block ? Errno.EIO : -n);
      at += n;
    }
  } else if (!(mode & FALLOC_FL_KEEP_SIZE) && end > st.size) {
    f.truncate(end);
  }
  notifyModified(f);
  return 0;
}, 'partial', 'modes 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE; tmpfs stores and charges the pages or frees a hole; on gofer files nothing is reserved and a punched range is written with zeros');
