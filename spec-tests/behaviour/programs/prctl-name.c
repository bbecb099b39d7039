/*
 * prctl-name: a process that names itself and a second thread with prctl(PR_SET_NAME),
 * for spec-tests/oci/ps-names.test.ts, which looks at it from the host (its comm, its
 * threads' comms, its command line) through `ps --format json`. Once both names are set
 * it waits (60 s at most) to be looked at, silent: run detached, its stdout is the
 * runtime's, which the test reads for ps's output.
 */
#include "common.h"
#include <pthread.h>
#include <sys/prctl.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int worker_named;

static void *worker(void *arg) {
  (void)arg;
  if (prctl(PR_SET_NAME, "ps-worker") != 0) {
    say("FAIL prctl(PR_SET_NAME) in the worker: %s", strerror(errno));
    exit(1);
  }
  pthread_mutex_lock(&lock);
  worker_named = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
  for (;;) pause();
  return NULL;
}

int main(void) {
  if (prctl(PR_SET_NAME, "ps-main-renamed-long") != 0) {
    say("FAIL prctl(PR_SET_NAME): %s", strerror(errno));
    return 1;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) {
    say("FAIL pthread_create");
    return 1;
  }
  pthread_mutex_lock(&lock);
  while (!worker_named) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  sleep(60);
  return 0;
}
