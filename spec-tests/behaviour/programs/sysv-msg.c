/*
 * sysv-msg: System V message queues: receive order by type (0, positive, negative,
 * MSG_EXCEPT), E2BIG and MSG_NOERROR, ENOMSG, a full queue (EAGAIN), a receiver blocked
 * until a message comes, EINTR despite SA_RESTART, EIDRM on removal, IPC_SET of
 * msg_qbytes and msgctl's fields.
 */
#include "common.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/time.h>

struct msg {
  long type;
  char text[9000];
};

static int send(int id, long type, const char *text, int flags) {
  struct msg m;
  m.type = type;
  strcpy(m.text, text);
  return msgsnd(id, &m, strlen(text), flags);
}

/* recv prints what msgrcv of `type` with `flags` gets, at most max bytes. */
static void recv(int id, const char *what, size_t max, long type, int flags) {
  struct msg m;
  memset(&m, 0, sizeof(m));
  ssize_t n = msgrcv(id, &m, max, type, flags | IPC_NOWAIT);
  if (n < 0) say("%s: %s", what, errname(errno));
  else say("%s: type %ld \"%.*s\" (%zd bytes)", what, m.type, (int)n, m.text, n);
}

/* wait_sleeping waits until process pid sleeps (state S in /proc/<pid>/stat). */
static void wait_sleeping(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  for (int i = 0; i < 100000; i++) {
    FILE *f = fopen(path, "r");
    if (f) {
      size_t n = fread(buf, 1, sizeof(buf) - 1, f);
      fclose(f);
      buf[n] = 0;
      char *p = strrchr(buf, ')');
      if (p && p[2] == 'S') return;
    }
    usleep(1000);
  }
  fail("wait_sleeping");
}

static void on_alarm(int sig) { (void)sig; }

int main(void) {
  int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  check(id >= 0, "msgget");
  check(send(id, 3, "a3", 0) == 0 && send(id, 1, "b1", 0) == 0 && send(id, 2, "c2", 0) == 0 && send(id, 1, "d1", 0) == 0, "send");
  struct msqid_ds ds;
  check(msgctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
  say("queue: qnum %lu cbytes %lu qbytes %lu mode %o lspid is me %s lrpid %d", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
      (unsigned long)ds.msg_qbytes, ds.msg_perm.mode, ds.msg_lspid == getpid() ? "yes" : "no", ds.msg_lrpid);
  recv(id, "type 2", 100, 2, 0);
  recv(id, "type -2", 100, -2, 0);
  recv(id, "not type 1", 100, 1, MSG_EXCEPT);
  recv(id, "type 0", 100, 0, 0);
  recv(id, "empty", 100, 0, 0);
  check(msgctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
  say("queue: qnum %lu cbytes %lu lrpid is me %s", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes, ds.msg_lrpid == getpid() ? "yes" : "no");

  check(send(id, 7, "0123456789abcdefghij", 0) == 0, "send long");
  recv(id, "20 bytes into 10", 10, 0, 0);
  recv(id, "with MSG_NOERROR", 10, 0, MSG_NOERROR);
  recv(id, "the rest was dropped", 100, 0, 0);

  say("type 0: %s", send(id, 0, "x", 0) == 0 ? "0" : errname(errno));
  struct msg big;
  big.type = 1;
  memset(big.text, 'z', sizeof(big.text));
  say("8193 bytes: %s", msgsnd(id, &big, 8193, 0) == 0 ? "0" : errname(errno));
  int sent = 0;
  while (msgsnd(id, &big, 8192, IPC_NOWAIT) == 0) sent++;
  say("8192-byte messages until full: %d, then %s", sent, errname(errno));

  /* A sender blocked on the full queue goes on when a message is taken. */
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    int r = send(id, 9, "late", 0);
    say("child: blocked send returned %s", r == 0 ? "0" : errname(errno));
    _exit(0);
  }
  wait_sleeping(c);
  struct msg m;
  check(msgrcv(id, &m, 8192, 1, 0) == 8192, "take one");
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  recv(id, "type 9", 100, 9, 0);
  recv(id, "second big one", 4, 1, MSG_NOERROR);

  /* A receiver blocked until a message of its type comes. */
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    ssize_t n = msgrcv(id, &m, 100, 5, 0);
    if (n < 0) fail("child msgrcv");
    say("child: received type %ld \"%.*s\"", m.type, (int)n, m.text);
    _exit(0);
  }
  wait_sleeping(c);
  check(send(id, 4, "four", 0) == 0 && send(id, 5, "five", 0) == 0, "send 4 5");
  check(waitpid(c, &st, 0) == c, "waitpid");
  recv(id, "left", 100, 0, 0);

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  check(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
  struct itimerval it = {{0, 0}, {0, 50 * 1000}};
  check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
  say("msgrcv interrupted by a SA_RESTART handler: %s", msgrcv(id, &m, 100, 0, 0) >= 0 ? "0" : errname(errno));

  check(msgctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
  ds.msg_qbytes = 100;
  ds.msg_perm.mode = 0640;
  check(msgctl(id, IPC_SET, &ds) == 0, "IPC_SET");
  check(msgctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
  say("after IPC_SET: qbytes %lu mode %o", (unsigned long)ds.msg_qbytes, ds.msg_perm.mode);
  say("101 bytes into 100: %s", msgsnd(id, &big, 101, IPC_NOWAIT) == 0 ? "0" : errname(errno));

  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    ssize_t n = msgrcv(id, &m, 100, 0, 0);
    say("child: msgrcv when the queue is removed: %s", n >= 0 ? "0" : errname(errno));
    _exit(0);
  }
  wait_sleeping(c);
  check(msgctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("after IPC_RMID: %s", msgctl(id, IPC_STAT, &ds) == 0 ? "0" : errname(errno));

  key_t key = (key_t)(0x5b000000 | getpid());
  say("msgget of a missing key: %s", msgget(key, 0600) >= 0 ? "0" : errname(errno));
  int kid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  check(kid >= 0, "msgget key");
  say("again with IPC_EXCL: %s, without: same id %s", msgget(key, IPC_CREAT | IPC_EXCL) >= 0 ? "0" : errname(errno),
      msgget(key, 0) == kid ? "yes" : "no");
  check(msgctl(kid, IPC_RMID, NULL) == 0, "IPC_RMID key");

  struct msginfo info;
  check(msgctl(0, IPC_INFO, (struct msqid_ds *)&info) >= 0, "IPC_INFO");
  say("IPC_INFO: msgmax %d msgmnb %d msgmni %d", info.msgmax, info.msgmnb, info.msgmni);
  say("done");
  return 0;
}
