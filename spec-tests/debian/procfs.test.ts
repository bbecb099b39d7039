/**
 * The container's view of itself through /proc and /sys, read by Debian's own tools,
 * under tvisor as under runc. Where a figure is the host's under runc and the sandbox's
 * under tvisor, the test compares the shape:
 *  - `sysctl -a`: runc's container reads the host's whole /proc/sys (about 800 entries
 *    here); tvisor's lists the sandbox's own table (sentry/fsimpl/proc/sysctl.ts), each
 *    a value the sentry really has, so fewer;
 *  - `free`: tvisor's MemTotal is the container's memory limit (the host's memory without
 *    one), runc's the host's; `uptime`: the sandbox's, not the host's;
 *  - `ulimit -a`: the default limits are the sandbox's (not the runtime's own, as runc's
 *    container inherits them), so only the names and units are compared;
 *  - /proc/self/cgroup: the same hierarchies and controllers (each path is the sandbox's
 *    cgroup, which runc names differently).
 */
import { expectSameAsRunc, runDebian } from './image';

const CASES: Array<[string, string]> = [
  ['nproc and Python count the same CPUs', `nproc; python3 -c 'import os; print(os.cpu_count(), len(os.sched_getaffinity(0)))'; grep -c ^processor /proc/cpuinfo; grep -c '^cpu[0-9]' /proc/stat; taskset -p 1 $$ > /dev/null && echo CPU 0 set; taskset -p 0x100 $$ 2>&1; taskset -p $$`],
  ['/sys/devices/system/cpu', `ls /sys/devices/system/cpu | grep -E '^(cpu[0-9]+|online|possible|present|kernel_max)$'; cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible; cat /sys/devices/system/cpu/cpu0/topology/core_id; ls /sys; ls /sys/class/net | grep -x lo; stat -f -c %T /sys`],
  ['sysctl names and values', `sysctl kernel.hostname kernel.ostype kernel.ngroups_max fs.nr_open fs.pipe-max-size kernel.shmmni fs.mqueue.msg_max net.ipv4.ip_local_port_range; cat /proc/sys/kernel/random/boot_id | tr -d '0-9a-f'; [ "$(cat /proc/sys/kernel/random/uuid)" != "$(cat /proc/sys/kernel/random/uuid)" ] && echo uuid changes`],
  ['namespace links', `ls /proc/self/ns; for n in cgroup ipc mnt net pid user uts; do a=$(readlink /proc/self/ns/$n); b=$(sh -c "readlink /proc/\\$\\$/ns/$n"); i=$(stat -L -c %i /proc/self/ns/$n); [ "$a" = "$b" ] && [ "$a" = "$n:[$i]" ] && echo "$n same"; done`],
  ['identity maps, login and session ids, no security label', `cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups /proc/self/loginuid; echo; cat /proc/self/sessionid; echo; cat /proc/self/attr/current 2>&1 | sed 's/.*: //'; sysctl fs.inotify.max_queued_events`],
  ['limits after ulimit', `ulimit -n 100; ulimit -c 0; head -1 /proc/self/limits; grep -E 'open files|core file' /proc/self/limits; ulimit -a | sed -E 's/[^ ]+$//'`],
  ['oom_score_adj', `cat /proc/self/oom_score_adj; echo 300 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj /proc/self/oom_adj; (echo -1 > /proc/self/oom_score_adj) 2>&1 | sed 's/.*: //'`],
  ['/proc/self/cgroup hierarchies', `cut -d: -f1,2 /proc/self/cgroup; cut -f1,2,4 /proc/cgroups`],
  // Mounts on /proc and /sys names (readonlyPaths, maskedPaths, the cgroup mount) hold
  // although neither file system caches its names.
  ['/proc/sys is read-only, /sys/fs/cgroup and /sys/firmware are mounted over', `(echo x > /proc/sys/kernel/hostname) 2>&1 | sed 's/.*: //'; stat -f -c %T /sys/fs/cgroup /sys/firmware; ls /sys/firmware | wc -l`],
  ['free, uptime and ps columns', `free -m | awk '{print $1, NF}'; uptime | grep -c 'load average:'; ps aux | head -1; cat /proc/swaps; awk '{print NF, ($1 > 0 && $2 >= 0) ? "uptime and idle" : "bad"}' /proc/uptime; awk '{print NF}' /proc/loadavg; grep -c '^cpu ' /proc/stat`],
];

describe('/proc and /sys under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));

  test('root writes a namespaced sysctl when /proc/sys is not read-only, not a read-only one', () => {
    expectSameAsRunc(`echo box.example > /proc/sys/kernel/hostname; hostname; sysctl -w kernel.domainname=dom.example; uname -n; cat /proc/sys/kernel/domainname; (echo 5 > /proc/sys/kernel/ostype) 2>&1 | sed 's/.*: //'`, {
      editSpec: (spec) => {
        spec.linux.readonlyPaths = spec.linux.readonlyPaths.filter((p: string) => p !== '/proc/sys');
      },
    });
  });

  test('process.oomScoreAdj is init\'s oom_score_adj, with the floor runc\'s write leaves', () => {
    expectSameAsRunc(`cat /proc/self/oom_score_adj; (echo 122 > /proc/self/oom_score_adj) 2>&1 | sed 's/.*: //'; echo 124 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj`, {
      editSpec: (spec) => {
        spec.process.oomScoreAdj = 123;
      },
    });
  });

  test('sysctl -a lists many entries under both (the host\'s under runc, the sandbox\'s under tvisor)', () => {
    const count = (rt: 'runc' | 'tvisor') => {
      const r = runDebian(rt, 'sysctl -a 2>/dev/null | wc -l; sysctl -a 2>/dev/null | grep -c "^kernel.hostname = "');
      expect(r.status).toBe(0);
      return r.stdout.trim().split('\n').map(Number);
    };
    const [runc, tvisor] = [count('runc'), count('tvisor')];
    expect(runc[0]).toBeGreaterThan(100);
    expect(tvisor[0]).toBeGreaterThan(30);
    expect([runc[1], tvisor[1]]).toEqual([1, 1]);
  });
});
