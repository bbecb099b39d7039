/*
 * files: file operations in the directory given as argv[1].
 *
 * Works in a fresh subdirectory of argv[1] (so the same program runs in /tmp, in a bind
 * mount, or natively in a temporary directory) and removes it at the end: create with
 * O_EXCL, write, read back, lseek/pread/pwrite, O_APPEND, ftruncate, fstat/stat sizes and
 * types, rename (also over an existing file), link counts, symlink/readlink, mkdir/rmdir
 * (ENOTEMPTY), readdir (sorted), unlink, and the ENOENT/EEXIST/EISDIR/ENOTDIR answers.
 * Paths are printed relative to the working directory, never absolute.
 */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* list prints the sorted names in dir (without . and ..), with a type letter. */
static void list(const char *dir) {
  DIR *d = opendir(dir);
  check(d != NULL, "opendir");
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    struct stat s;
    check(lstat(path, &s) == 0, "lstat");
    char *entry = malloc(300);
    snprintf(entry, 300, "%s%s", e->d_name, S_ISDIR(s.st_mode) ? "/" : S_ISLNK(s.st_mode) ? "@" : "");
    names[n++] = entry;
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof(names[0]), cmp);
  char line[2048] = "";
  for (int i = 0; i < n; i++) {
    strcat(line, i ? " " : "");
    strcat(line, names[i]);
    free(names[i]);
  }
  say("ls %s: [%s]", dir, line);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  check(fd >= 0, "open");
  check(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write");
  check(close(fd) == 0, "close");
}

/* show_file prints a small file's content with newlines shown as \n. */
static void show_file(const char *path) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    say("cat %s: %s", path, errname(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  check(n >= 0, "read");
  close(fd);
  char shown[512];
  size_t k = 0;
  for (ssize_t i = 0; i < n && k + 3 < sizeof(shown); i++) {
    if (buf[i] == '\n') {
      shown[k++] = '\\';
      shown[k++] = 'n';
    } else {
      shown[k++] = buf[i];
    }
  }
  shown[k] = 0;
  say("cat %s: '%s'", path, shown);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    say("usage: files DIR");
    return 2;
  }
  check(chdir(argv[1]) == 0, "chdir");
  umask(022);
  const char *w = "files-work";
  check(mkdir(w, 0755) == 0, "mkdir");
  check(chdir(w) == 0, "chdir");
  list(".");

  /* Create, write, read. */
  int fd = open("a.txt", O_RDWR | O_CREAT | O_EXCL, 0640);
  check(fd >= 0, "open");
  say("write: %zd", write(fd, "hello, file\n", 12));
  struct stat s;
  check(fstat(fd, &s) == 0, "fstat");
  say("fstat: size %lld, regular %s, mode %o", (long long)s.st_size, S_ISREG(s.st_mode) ? "yes" : "no", s.st_mode & 07777);
  say("open O_EXCL again: %s", result(open("a.txt", O_RDWR | O_CREAT | O_EXCL, 0640)));
  char buf[64];
  say("read at end: %zd", read(fd, buf, sizeof(buf)));
  say("lseek to 7: %lld", (long long)lseek(fd, 7, SEEK_SET));
  ssize_t n = read(fd, buf, sizeof(buf));
  say("read from 7: %zd '%.*s'", n, (int)(n > 0 ? n - 1 : 0), buf);
  say("pwrite at 0: %zd", pwrite(fd, "HELLO", 5, 0));
  n = pread(fd, buf, 5, 0);
  say("pread at 0: '%.*s', offset still %lld", (int)n, buf, (long long)lseek(fd, 0, SEEK_CUR));
  say("lseek SEEK_END-1: %lld", (long long)lseek(fd, -1, SEEK_END));
  say("lseek to -1: %s", result(lseek(fd, -1, SEEK_SET)));
  close(fd);
  show_file("a.txt");

  /* O_APPEND and ftruncate. */
  fd = open("a.txt", O_WRONLY | O_APPEND);
  check(fd >= 0, "open");
  lseek(fd, 0, SEEK_SET);
  check(write(fd, "more\n", 5) == 5, "write");
  close(fd);
  show_file("a.txt");
  check(truncate("a.txt", 5) == 0, "truncate");
  show_file("a.txt");
  fd = open("a.txt", O_RDWR);
  check(ftruncate(fd, 8192) == 0, "ftruncate");
  check(fstat(fd, &s) == 0, "fstat");
  n = pread(fd, buf, 4, 6000);
  say("ftruncate to 8192: size %lld, hole reads %zd bytes of zeros: %s", (long long)s.st_size, n, buf[0] == 0 && buf[3] == 0 ? "yes" : "no");
  close(fd);

  /* rename, also over an existing file. */
  write_file("b.txt", "bee\n");
  write_file("c.txt", "sea\n");
  say("rename a.txt -> d.txt: %s", result(rename("a.txt", "d.txt")));
  say("rename c.txt -> b.txt (replaces): %s", result(rename("c.txt", "b.txt")));
  show_file("b.txt");
  say("stat a.txt after rename: %s", result(stat("a.txt", &s)));
  say("rename missing: %s", result(rename("nope", "x")));

  /* Hard link and symlink. */
  say("link b.txt -> e.txt: %s", result(link("b.txt", "e.txt")));
  check(stat("b.txt", &s) == 0, "stat");
  say("b.txt links: %lu", (unsigned long)s.st_nlink);
  say("symlink f.lnk -> b.txt: %s", result(symlink("b.txt", "f.lnk")));
  n = readlink("f.lnk", buf, sizeof(buf));
  say("readlink f.lnk: '%.*s'", (int)(n > 0 ? n : 0), buf);
  show_file("f.lnk");
  check(lstat("f.lnk", &s) == 0, "lstat");
  say("lstat f.lnk: symlink %s", S_ISLNK(s.st_mode) ? "yes" : "no");

  /* Directories. */
  say("mkdir sub: %s", result(mkdir("sub", 0755)));
  say("mkdir sub again: %s", result(mkdir("sub", 0755)));
  write_file("sub/inner", "in\n");
  say("open sub for writing: %s", result(open("sub", O_WRONLY)));
  say("open b.txt/x: %s", result(open("b.txt/x", O_RDONLY)));
  say("rmdir non-empty sub: %s", result(rmdir("sub")));
  say("unlink sub (a directory): %s", result(unlink("sub")));
  list(".");
  list("sub");

  /* Many entries, listed sorted. */
  check(mkdir("many", 0755) == 0, "mkdir");
  for (int i = 19; i >= 0; i--) {
    char name[64];
    snprintf(name, sizeof(name), "many/f%02d", i);
    write_file(name, "x");
  }
  list("many");

  /* Cleanup: unlink everything, then the directory is empty and removable. */
  for (int i = 0; i < 20; i++) {
    char name[64];
    snprintf(name, sizeof(name), "many/f%02d", i);
    check(unlink(name) == 0, "unlink");
  }
  const char *files[] = {"b.txt", "d.txt", "e.txt", "f.lnk", "sub/inner"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) say("unlink %s: %s", files[i], result(unlink(files[i])));
  say("unlink again: %s", result(unlink("b.txt")));
  say("rmdir sub: %s", result(rmdir("sub")));
  say("rmdir many: %s", result(rmdir("many")));
  list(".");
  check(chdir("..") == 0, "chdir");
  say("rmdir %s: %s", w, result(rmdir(w)));
  say("done");
  return 0;
}
