// dirstat.cc is tvisor's fs addon: the gofer's directory listing with every entry's
// attributes (Treaddirstat), in one call instead of a koffi call per entry.
//
// listStat reads a directory descriptor with getdents64 and statx's each entry relative to
// it (one component read from the directory itself, AT_SYMLINK_NOFOLLOW: a symlink's own
// attributes, never its target's), and writes each entry as Rreaddirstat carries it on
// the wire: name[s] and an Rgetattr body (gofer/p9/messages.ts), with the host's owners
// (the caller maps them: gofer/hostfs/dirstat.ts). It opens nothing and resolves no path:
// the confinement of the gofer's lookups (sys.ts) holds for it as for one statx.
//
// Everything runs on the calling thread (the gofer's main thread, under the caller's
// credentials when the request has them); functions return a count >= 0 or -errno.
#include <napi.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace {

// kAttrSize is the size of an Rgetattr body (gofer/p9/codec.ts ATTR_SIZE); the offsets
// below are its fields'.
constexpr size_t kAttrSize = 153;
// kDentsSize is the getdents64 buffer.
constexpr size_t kDentsSize = 32 * 1024;
// Qid types (9P): directory, symlink, file.
constexpr uint8_t kQidDir = 0x80, kQidSymlink = 0x02, kQidFile = 0x00;

struct Dirent64 {
  uint64_t ino;
  int64_t off;
  uint16_t reclen;
  uint8_t type;
  char name[];
};

void put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
void put64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
// A time's seconds, never below 0 (as the JavaScript encoder writes them: Math.max(0, sec)).
uint64_t secs(int64_t s) { return s < 0 ? 0 : static_cast<uint64_t>(s); }

// writeAttr writes the Rgetattr body of `st` at p (kAttrSize bytes).
void writeAttr(uint8_t* p, const struct statx& st, uint64_t valid, uint32_t expMajor, uint32_t expMinor) {
  const uint32_t fmt = st.stx_mode & S_IFMT;
  uint64_t path = st.stx_ino;
  if (st.stx_dev_major != expMajor || st.stx_dev_minor != expMinor) {
    // A mount inside the export: the qid path of gofer/server/file.ts qidOf (the device
    // in its top 16 bits, xored).
    path ^= static_cast<uint64_t>(((st.stx_dev_major << 12) | (st.stx_dev_minor & 0xfff)) & 0xffff) << 48;
  }
  put64(p + 0, valid);
  p[8] = fmt == S_IFDIR ? kQidDir : fmt == S_IFLNK ? kQidSymlink : kQidFile;
  put32(p + 9, 0);
  put64(p + 13, path);
  put32(p + 21, st.stx_mode);
  put32(p + 25, st.stx_uid);
  put32(p + 29, st.stx_gid);
  put64(p + 33, st.stx_nlink);
  put64(p + 41, makedev(st.stx_rdev_major, st.stx_rdev_minor));
  put64(p + 49, st.stx_size);
  put64(p + 57, st.stx_blksize);
  put64(p + 65, st.stx_blocks);
  put64(p + 73, secs(st.stx_atime.tv_sec));
  put64(p + 81, st.stx_atime.tv_nsec);
  put64(p + 89, secs(st.stx_mtime.tv_sec));
  put64(p + 97, st.stx_mtime.tv_nsec);
  put64(p + 105, secs(st.stx_ctime.tv_sec));
  put64(p + 113, st.stx_ctime.tv_nsec);
  put64(p + 121, secs(st.stx_btime.tv_sec));
  put64(p + 129, st.stx_btime.tv_nsec);
  put64(p + 137, 0);  // gen
  put64(p + 145, 0);  // data_version
}

// listStat(dirfd, skip, max, out, valid, expMajor, expMinor, state) -> bytes or -errno.
// Lists dirfd from its current position (a fresh descriptor: the start), leaving out `.`
// and `..`; skips `skip` entries, then writes at most `max` into `out` (as many as fit);
// state[0] = entries written, state[1] = the index of the first entry not written (0 when
// the listing is complete). An entry whose statx fails (gone since the listing) is left
// out but counted. `valid` is the Rgetattr valid mask written; expMajor:expMinor the
// export's device.
Napi::Value ListStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 8 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsBuffer() || !info[4].IsNumber() || !info[5].IsNumber() || !info[6].IsNumber() ||
      !info[7].IsTypedArray()) {
    Napi::TypeError::New(env, "listStat(dirfd, skip, max, out, valid, expMajor, expMinor, state)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int dirfd = info[0].As<Napi::Number>().Int32Value();
  const int64_t skip = info[1].As<Napi::Number>().Int64Value();
  const int64_t max = info[2].As<Napi::Number>().Int64Value();
  Napi::Buffer<uint8_t> out = info[3].As<Napi::Buffer<uint8_t>>();
  const uint64_t valid = static_cast<uint64_t>(info[4].As<Napi::Number>().Int64Value());
  const uint32_t expMajor = info[5].As<Napi::Number>().Uint32Value();
  const uint32_t expMinor = info[6].As<Napi::Number>().Uint32Value();
  Napi::TypedArray stateArr = info[7].As<Napi::TypedArray>();
  if (stateArr.TypedArrayType() != napi_uint32_array || stateArr.ElementLength() < 2 || skip < 0 || max < 0) {
    Napi::TypeError::New(env, "listStat: state must be a Uint32Array(2), skip and max >= 0").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint32Array state = stateArr.As<Napi::Uint32Array>();
  uint8_t* const base = out.Data();
  const size_t cap = out.Length();
  size_t used = 0;
  int64_t index = 0, written = 0, next = 0;
  alignas(8) char dents[kDentsSize];
  for (;;) {
    // SAFETY: dents holds kDentsSize bytes, which the kernel fills with whole records.
    ssize_t n = getdents64(dirfd, dents, sizeof dents);
    if (n < 0) return Napi::Number::New(env, -errno);
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      const Dirent64* d = reinterpret_cast<const Dirent64*>(dents + at);
      // A record is at least its header and a NUL, and lies inside what was read.
      if (d->reclen < offsetof(Dirent64, name) + 1 || at + d->reclen > n) return Napi::Number::New(env, -EIO);
      at += d->reclen;
      const size_t room = d->reclen - offsetof(Dirent64, name);
      const size_t len = strnlen(d->name, room);
      // The kernel never names a record with a '/' nor more than 255 bytes; a name not
      // NUL-terminated inside its record, empty, `.` or `..` is not an entry of the listing.
      if (len == room || len == 0 || len > 255) continue;
      if (d->name[0] == '.' && (len == 1 || (len == 2 && d->name[1] == '.'))) continue;
      if (memchr(d->name, '/', len) != nullptr) continue;
      if (index++ < skip) continue;
      const size_t need = 2 + len + kAttrSize;
      if (written >= max || used + need > cap) {
        next = index - 1;
        goto done;
      }
      struct statx st;
      // SAFETY: one component read from the directory itself (no '/', not `.` nor `..`),
      // relative to dirfd, never following a symlink nor triggering an automount: exactly
      // the entry beneath dirfd that a confined lookup (sys.ts lookup) of the name reaches.
      if (statx(dirfd, d->name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_BTIME, &st) < 0) continue;
      // SAFETY: used + need <= cap (checked above): the entry lies inside out.
      uint8_t* p = base + used;
      p[0] = static_cast<uint8_t>(len);
      p[1] = 0;
      memcpy(p + 2, d->name, len);
      writeAttr(p + 2 + len, st, valid, expMajor, expMinor);
      used += need;
      written++;
    }
  }
done:
  state[0] = static_cast<uint32_t>(written);
  state[1] = static_cast<uint32_t>(next);
  return Napi::Number::New(env, static_cast<double>(used));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("listStat", Napi::Function::New(env, ListStat));
  exports.Set("attrSize", Napi::Number::New(env, static_cast<double>(kAttrSize)));
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_fs, Init)
