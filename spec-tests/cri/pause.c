/*
 * pause.c is the CRI tests' pod sandbox image program (containerd's sandbox_image): it
 * holds the pod's namespaces open and does nothing else. As the init of a pod whose PID
 * namespace is shared it reaps every orphan that is reparented to it, and it exits 0 on
 * SIGINT or SIGTERM, the signals containerd stops a sandbox with.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = quit;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = reap;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  for (;;) pause();
  return EXIT_FAILURE;
}
