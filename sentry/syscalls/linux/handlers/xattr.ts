/**
 * The extended-attribute syscalls (get, set, list, remove; by path, by path without
 * following a final symlink, by fd). No filesystem of the sandbox stores extended
 * attributes yet, so each answers as Linux does for a filesystem without xattr support:
 * the file is looked up first (ENOENT, EBADF, ELOOP... as usual), the arguments checked,
 * then get/set/remove fail with EOPNOTSUPP and list returns an empty list. Programs such
 * as ls, cp -a and tar take EOPNOTSUPP to mean "no attributes here" and stay quiet.
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import type { Registers } from '../../../../platform';
import { resolve } from '../../../vfs/path';
import { define } from '../registry';
import { AT_FDCWD, dirLocation, fdArg, file, num, pathArg, u32 } from './util';

const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536;
const XATTR_CREATE = 1, XATTR_REPLACE = 2;
const NOTE = 'no sandbox filesystem stores extended attributes: EOPNOTSUPP, empty lists';

type Target = 'follow' | 'nofollow' | 'fd';

/** lookup checks that the file exists (by path or fd), as Linux does before anything else. */
function lookup(t: Task, r: Registers, how: Target): void {
  if (how === 'fd') {
    file(t, fdArg(r, 0));
    return;
  }
  const path = pathArg(t, r, 0);
  if (path === '') fail(Errno.ENOENT);
  resolve(t, dirLocation(t, AT_FDCWD, path), path, { follow: how === 'follow' });
}

/** checkName reads the attribute name at argument 1 (ERANGE when empty or too long). */
function checkName(t: Task, r: Registers): void {
  let name: string;
  try {
    name = t.mm.readString(r.arg(1), XATTR_NAME_MAX + 1);
  } catch (e) {
    if ((e as { errno?: number }).errno === Errno.ENAMETOOLONG) fail(Errno.ERANGE);
    throw e;
  }
  if (name.length === 0 || name.length > XATTR_NAME_MAX) fail(Errno.ERANGE);
}

const HOW: Target[] = ['follow', 'nofollow', 'fd'];

// setxattr 188, lsetxattr 189, fsetxattr 190
HOW.forEach((how, i) => define(188 + i, (t, r) => {
  lookup(t, r, how);
  checkName(t, r);
  if (u32(r, 4) & ~(XATTR_CREATE | XATTR_REPLACE)) fail(Errno.EINVAL);
  if (num(r, 3) > XATTR_SIZE_MAX) fail(Errno.E2BIG);
  return fail(Errno.EOPNOTSUPP);
}, 'partial', NOTE));

// listxattr 194, llistxattr 195, flistxattr 196: no attributes, an empty list.
HOW.forEach((how, i) => define(194 + i, (t, r) => {
  lookup(t, r, how);
  return 0;
}, 'partial', NOTE));

// getxattr 191, lgetxattr 192, fgetxattr 193; removexattr 197, lremovexattr 198, fremovexattr 199
for (const first of [191, 197]) {
  HOW.forEach((how, i) => define(first + i, (t, r) => {
    lookup(t, r, how);
    checkName(t, r);
    return fail(Errno.EOPNOTSUPP);
  }, 'partial', NOTE));
}
