/**
 * /proc/<pid>/sched, schedstat and status's context-switch lines under tvisor and runc
 * (fsimpl/proc/sched-files.ts): the same formats, with the sentry's own figures (CPU time,
 * run-queue delay, runs and switches); tvisor's sched lists only the fields it has real
 * values for, each a field runc's (the host's CFS) also shows. Values differ between runs:
 * what is compared is the shape and the relations Linux keeps (switches add up, a shell
 * that ran has CPU time and runs).
 */
import { runDebian } from './image';

const SCRIPT = [
  // The header names the command, its pid (replaced) and its thread count; then dashes.
  'head -2 /proc/self/sched | sed -E "s/[0-9]+,/N,/"',
  // The lines of the fields tvisor has: six, each a name padded to 45 columns, a colon
  // and a number right-aligned to 21 (milliseconds with six decimals for the runtime).
  'F="^(se\\.sum_exec_runtime|nr_switches|nr_voluntary_switches|nr_involuntary_switches|policy|prio) "',
  'echo "$(grep -cE "$F" /proc/$$/sched) fields, $(grep -E "$F" /proc/$$/sched | grep -cvE "^.{45}:([ 0-9]{14}\\.[0-9]{6}|[ 0-9-]{21})$") malformed"',
  'awk -F" *: *" \'/^nr_switches/ {t=$2} /^nr_voluntary/ {v=$2} /^nr_involuntary/ {i=$2} END {print (t == v + i) ? "switches add up" : "switches: " t " " v " " i}\' /proc/$$/sched',
  'awk \'{print NF, ($1 > 0 ? "ran" : "never ran"), ($3 > 0 ? "runs" : "no runs")}\' /proc/$$/schedstat',
  'grep -cE "^(non)?voluntary_ctxt_switches:\t[0-9]+$" /proc/$$/status',
  'tail -n +3 /proc/$$/sched | cut -d: -f1 | sed "s/ *$//" > /tmp/fields; echo fields listed: $(wc -l < /tmp/fields)',
].join('\n');

describe('/proc/<pid>/sched and schedstat under tvisor match runc', () => {
  test('formats, relations, and fields runc also has', () => {
    const runc = runDebian('runc', `${SCRIPT}\ncat /tmp/fields`, { work: false });
    expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
    const tvisor = runDebian('tvisor', `${SCRIPT}\ncat /tmp/fields`, { work: false });
    expect({ status: tvisor.status, stderr: tvisor.stderr }).toEqual({ status: 0, stderr: '' });
    const [runcHead, tvisorHead] = [runc, tvisor].map((r) => r.stdout.split('\n').slice(0, 5).join('\n'));
    expect(tvisorHead).toBe(runcHead);
    expect(tvisorHead).toBe([
      'head (N, #threads: 1)', '-'.repeat(67), '6 fields, 0 malformed', 'switches add up', '3 ran runs',
    ].join('\n'));
    expect(tvisor.stdout).toMatch(/^2$/m);
    const fields = (out: string) => out.split('\n').slice(out.split('\n').findIndex((l) => l.startsWith('fields listed')) + 1).filter(Boolean);
    const tv = fields(tvisor.stdout);
    expect(tv).toEqual(['se.sum_exec_runtime', 'nr_switches', 'nr_voluntary_switches', 'nr_involuntary_switches', 'policy', 'prio']);
    expect(tv.filter((f) => !fields(runc.stdout).includes(f))).toEqual([]);
  });
});
