/**
 * AddressSanitizer's leak check (LeakSanitizer) in the Debian image: at exit it lists
 * /proc/<pid>/task (getdents), attaches every thread with ptrace from a clone()d tracer,
 * waits for each stop with __WALL, reads the registers and detaches (sentry/kernel/ptrace.ts).
 * A clean program exits 0; a leaking one reports its leak and exits 1 (ASan's exit code for a leak), as under runc.
 */
import { expectSameAsRunc } from './image';

const CLEAN = String.raw`#include <stdlib.h>
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
static void *work(void *a) { for (;;) pause(); return a; }
int main(void) { pthread_t t; pthread_create(&t, 0, work, 0); char *p = malloc(10); p[0] = 1; free(p); printf("clean\n"); return 0; }
`;
const LEAK = String.raw`#include <stdlib.h>
#include <stdio.h>
void *keep;
int main(void) { keep = malloc(7); keep = 0; printf("leaky\n"); return 0; }
`;

describe('AddressSanitizer programs under tvisor match runc', () => {
  test('a clean program (two threads) exits 0 after the leak check; a leak is reported with status 1', () => {
    expectSameAsRunc(`cat > clean.c <<'EOF'
${CLEAN}EOF
cat > leak.c <<'EOF'
${LEAK}EOF
gcc -g -fsanitize=address -o clean clean.c -lpthread && gcc -g -fsanitize=address -o leak leak.c || exit 1
./clean; c=$?; echo "clean: $c"
./leak 2>err.txt; l=$?; echo "leak: $l"
grep -o 'ERROR: LeakSanitizer: detected memory leaks' err.txt
grep -o 'SUMMARY: AddressSanitizer: 7 byte(s) leaked in 1 allocation(s).' err.txt
echo "fatal errors: $(grep -c 'LeakSanitizer has encountered a fatal error' err.txt)"
# What runc shows, checked here so that a run where neither leak check works fails too.
[ "$c" = 0 ] && [ "$l" = 1 ] && grep -q 'detected memory leaks' err.txt`);
  });
});
