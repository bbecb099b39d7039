/**
 * syslog(2), what dmesg(1) and klogctl call: the sandbox's kernel log, which is empty (the
 * sentry logs to its own log, never into the sandbox). Permissions are Linux's with
 * kernel.dmesg_restrict = 1 (Debian's default, what /proc/sys/kernel/dmesg_restrict shows):
 * every action, CLOSE and OPEN included, takes CAP_SYSLOG (or CAP_SYS_ADMIN), else EPERM,
 * checked before the action itself (an unknown action is EPERM without them, EINVAL with).
 * With them: reading returns nothing (SYSLOG_ACTION_READ waits for a message that never
 * comes, until a signal), the sizes are 0 unread of a 128 KiB buffer, clearing and the
 * console actions succeed (CONSOLE_LEVEL checks its level, 1..8).
 */
import { CAP_SYS_ADMIN, CAP_SYSLOG } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';

const SYSLOG_ACTION_CLOSE = 0, SYSLOG_ACTION_OPEN = 1, SYSLOG_ACTION_READ = 2, SYSLOG_ACTION_READ_ALL = 3,
  SYSLOG_ACTION_READ_CLEAR = 4, SYSLOG_ACTION_CLEAR = 5, SYSLOG_ACTION_CONSOLE_OFF = 6, SYSLOG_ACTION_CONSOLE_ON = 7,
  SYSLOG_ACTION_CONSOLE_LEVEL = 8, SYSLOG_ACTION_SIZE_UNREAD = 9, SYSLOG_ACTION_SIZE_BUFFER = 10;

/** LOG_BUF_LEN is the size syslog reports for the log buffer (Linux's default, 1 << 17). */
const LOG_BUF_LEN = 1 << 17;

// syslog(type, buf, len)
define(103, (t, r) => {
  const type = r.argInt(0), buf = r.arg(1), len = r.argInt(2);
  if (!t.creds.capable(CAP_SYSLOG) && !t.creds.capable(CAP_SYS_ADMIN)) fail(Errno.EPERM);
  switch (type) {
    case SYSLOG_ACTION_CLOSE: case SYSLOG_ACTION_OPEN: case SYSLOG_ACTION_CLEAR:
    case SYSLOG_ACTION_CONSOLE_OFF: case SYSLOG_ACTION_CONSOLE_ON: case SYSLOG_ACTION_SIZE_UNREAD:
      return 0;
    case SYSLOG_ACTION_READ:
      if (buf === 0n || len < 0) fail(Errno.EINVAL);
      return len === 0 ? 0 : new Block([]); // no message ever comes: until a signal (ERESTARTSYS)
    case SYSLOG_ACTION_READ_ALL: case SYSLOG_ACTION_READ_CLEAR:
      if (buf === 0n || len < 0) fail(Errno.EINVAL);
      return 0;
    case SYSLOG_ACTION_CONSOLE_LEVEL:
      if (len < 1 || len > 8) fail(Errno.EINVAL);
      return 0;
    case SYSLOG_ACTION_SIZE_BUFFER:
      return LOG_BUF_LEN;
    default:
      return fail(Errno.EINVAL);
  }
}, 'partial', 'the sandbox\'s kernel log is empty; permissions as with kernel.dmesg_restrict = 1');
