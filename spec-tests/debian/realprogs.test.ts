/**
 * What a new user runs first on the Debian image, where tvisor once differed from runc:
 * each case is one real program whose output and status under tvisor must be runc's.
 * The image is built by `make debian-image`; without it these tests fail.
 */
import { expectSameAsRunc } from './image';

const CASES: Array<[string, string]> = [
  // tar restores a symlink's mode with fchmodat(AT_SYMLINK_NOFOLLOW), which glibc does by
  // opening the link itself with O_PATH|O_NOFOLLOW (it got ELOOP: "Cannot change mode").
  ['tar extracts a tree with symlinks, on the bind mount and on tmpfs', `for d in /work /tmp; do cd $d && mkdir -p t/a && echo x > t/a/f && ln -s a t/l && ln -s nowhere t/dangling && tar czf t.tgz t && mkdir x && tar xzf t.tgz -C x && diff -r t x/t && ls -l x/t | cut -c1,11 | sort && python3 -c 'import os; print(os.stat(os.open("x/t/l", os.O_PATH | os.O_NOFOLLOW), follow_symlinks=False).st_mode)'; echo "$d $?"; done`],
  // ionice sets and reads I/O priorities with ioprio_set/ioprio_get (they were ENOSYS).
  ['ionice', `ionice; ionice -c3 true; echo "idle $?"; ionice -c2 -n3 bash -c 'ionice; ionice -c2 -n6 -p $$; ionice -p $$; nice -n 5 ionice'; ionice -c1 -n0 true; echo "realtime without CAP_SYS_NICE $?"`],
  // ps s reads SigPnd, SigBlk, SigIgn and SigCgt from /proc/<pid>/status (it showed
  // 00000000 for the three status lacked); Umask, Ngid, TracerPid as Linux prints them. SigQ's
  // count is the real user's, host-wide under runc: only its limit is compared.
  // Signal 32 (glibc's reserved SIGCANCEL, which no program here touches) may be ignored
  // by whatever started runc, and runc's init keeps an ignored disposition across exec;
  // tvisor's init starts from the default dispositions: its bit is cleared on both sides
  // (the output goes through a file: a pipeline would run the group in a subshell). The
  // status read is a waiting shell's, not this shell's: a shell forking a pipeline blocks
  // signals for a moment, so its own status read by that pipeline varies from run to run.
  ['ps s and the signal lines of /proc/<pid>/status', `{ bash -c "trap '' USR1; trap 'echo' USR2; sleep 5 & wait" & p=$!; sleep 1; grep -E '^(Umask|Ngid|TracerPid|Groups|Sig[PBIC]|ShdPnd)' /proc/$p/status | cat -A; grep SigQ /proc/$p/status | cut -d/ -f2; ps s -p $p | cut -c1-90 | awk '{ $2 = "PID"; print }'; kill $p; umask 027; sleep 1 & grep Umask /proc/$!/status
python3 -c '
import signal, os, threading
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
signal.signal(signal.SIGTERM, lambda *a: None)
os.kill(os.getpid(), signal.SIGUSR1)
signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)
print([l for l in open("/proc/self/status") if l.startswith(("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"))])'
} > /tmp/sig.out; python3 -c "import re, sys
for l in sys.stdin: sys.stdout.write(re.sub(r'(?<![0-9a-f])[0-9a-f]{16}(?![0-9a-f])', lambda m: '%016x' % (int(m.group(0), 16) & ~(1 << 31)), l))" < /tmp/sig.out`],
  // recvmsg with room for exactly CMSG_LEN(sizeof(struct ucred)), what Python's docs show
  // for SO_PASSCRED, gets the credentials (tvisor wanted CMSG_SPACE and sent none, MSG_CTRUNC).
  ['Python recvmsg: SCM_CREDENTIALS in CMSG_LEN bytes, with SCM_RIGHTS after', `python3 -c '
import array, os, socket, struct
a, b = socket.socketpair()
a.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
size = struct.calcsize("3i")
for room in [socket.CMSG_LEN(size), socket.CMSG_SPACE(size), socket.CMSG_LEN(size) - 1, socket.CMSG_SPACE(size) + socket.CMSG_LEN(4), socket.CMSG_SPACE(size) + socket.CMSG_LEN(8)]:
    r, w = os.pipe()
    b.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r, w]))])
    os.close(r); os.close(w)
    msg, anc, flags, _ = a.recvmsg(1, room)
    print(room, msg, [(l, t, len(d)) for l, t, d in anc], bool(flags & socket.MSG_CTRUNC))
    for l, t, d in anc:
        if t == socket.SCM_CREDENTIALS and len(d) == size: print(struct.unpack("3i", d)[1:], struct.unpack("3i", d)[0] > 0)
        if t == socket.SCM_RIGHTS: [os.close(fd) for fd in array.array("i", d[:len(d) - len(d) % 4])]
'`],
  // vmstat(8) needs /proc/vmstat to start ("Unable to create vmstat structure").
  ['vmstat', `vmstat | head -2; vmstat -s | sed 's/^ *[0-9]* //'; vmstat -a | head -2; grep -E '^(nr_free_pages|nr_active_anon|pgpgin|pgpgout|pswpin|pswpout|pgfault|pgmajfault) [0-9]+$' /proc/vmstat | cut -d' ' -f1`],
  // dmesg reads the kernel log with syslog(2) (it was ENOSYS, "Function not implemented");
  // root without CAP_SYSLOG is refused every action but CLOSE and OPEN, as under runc.
  ['dmesg and syslog(2) without CAP_SYSLOG', `dmesg; echo "dmesg $?"; cat /proc/sys/kernel/dmesg_restrict; python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(64)
for action in [0, 1, 3, 4, 5, 8, 9, 10, 99]:
    r = libc.klogctl(action, buf, 64)
    print(action, r, os.strerror(ctypes.get_errno()) if r < 0 else "")'`],
  // chrt -p reads a policy with sched_getattr, Python's os.sched_getparam/setparam call
  // sched_getparam/sched_setparam (all three were ENOSYS: "failed to get pid 1's attributes").
  ['chrt and os.sched_getparam/sched_setparam', `(chrt -p $$; chrt -b -p 0 $$; chrt -p $$; chrt -i 0 chrt -p 0; chrt -f 10 true; echo "fifo $?"; nice -n 4 chrt -p 0) 2>&1 | sed 's/pid [0-9]*/pid N/'
python3 -c '
import os
print(os.sched_getparam(0).sched_priority, os.sched_getscheduler(0))
os.sched_setparam(0, os.sched_param(0)); print("setparam 0 ok")
for bad in [lambda: os.sched_setparam(0, os.sched_param(5)), lambda: os.sched_getparam(999999), lambda: os.sched_setparam(-1, os.sched_param(0))]:
    try: bad()
    except OSError as e: print(os.strerror(e.errno))
os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0)); print(os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)'`],
];

describe('real programs on the Debian image under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));
});
