/**
 * fadvise64: advice about how a file will be read. Linux treats it as a hint for its page
 * cache; the sentry keeps none (files of the gofer are read through host descriptors,
 * tmpfs lives in memory), so the call validates as Linux's generic_fadvise does and then
 * changes nothing.
 */
import { Errno, fail } from '../../../kernel/errors';
import { S_IFIFO, S_IFMT } from '../../../vfs/inode';
import { define } from '../registry';
import { fdArg, file } from './util';

/** POSIX_FADV_NORMAL .. POSIX_FADV_NOREUSE are the advice values Linux knows (0..5). */
const POSIX_FADV_NOREUSE = 5;

// fadvise64(fd, offset, len, advice)
define(221, (t, r) => {
  const f = file(t, fdArg(r, 0));
  if ((f.stat().mode & S_IFMT) === S_IFIFO) fail(Errno.ESPIPE);
  const len = BigInt.asIntN(64, r.arg(2));
  const advice = r.argInt(3);
  if (len < 0n || advice < 0 || advice > POSIX_FADV_NOREUSE) fail(Errno.EINVAL);
  return 0;
}, 'partial', 'validated as Linux does (EBADF, ESPIPE on pipes, EINVAL); the advice changes nothing: the sentry keeps no page cache');
