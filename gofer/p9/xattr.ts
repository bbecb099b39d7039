/**
 * Extended attributes between the sentry and the gofer: the rules both ends apply, kept in
 * one place. Only the "user." namespace is served (trusted. and security. act on the host:
 * file capabilities of an executable the host may run, SELinux labels); and a Txattrcreate
 * of size 0 with XATTR_REPLACE alone removes the attribute, the convention of Linux's 9P
 * client for removexattr (9P2000.L has no message of its own for it).
 */

/** XATTR_CREATE and XATTR_REPLACE are setxattr's flags (Txattrcreate carries them). */
export const XATTR_CREATE = 1, XATTR_REPLACE = 2;
/** XATTR_SIZE_MAX is Linux's limit on a value. */
export const XATTR_SIZE_MAX = 65536;

const USER_PREFIX = 'user.';

/** isUserXattrName says whether `name` is in the "user." namespace with a name after the dot. */
export function isUserXattrName(name: string): boolean {
  return name.startsWith(USER_PREFIX) && name.length > USER_PREFIX.length;
}

/** isXattrRemoval says whether a Txattrcreate of `size` with `flags` asks for a removal. */
export function isXattrRemoval(size: number, flags: number): boolean {
  return size === 0 && flags === XATTR_REPLACE;
}
