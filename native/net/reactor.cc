// reactor.cc is tvisor's net addon: the host-I/O reactor, and SIOCGIFCONF (whose
// argument holds a pointer, which koffi's flat calls cannot build).
//
// The reactor is tvisor's host-I/O notifier: one epoll descriptor whose readiness libuv
// watches (a uv_poll_t on Node's loop), so that host descriptors the sentry waits on
// (its host sockets, terminals, the exec control socket) wake tasks through Node's event
// loop with no polling timer. When the epoll fd is readable, the poll callback drains it
// with epoll_wait(..., 0) and calls the JavaScript callback once with an Int32Array of
// (fd, events) pairs.
//
// Everything runs on the main thread (libuv's loop thread); functions return 0 or -errno.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <poll.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

namespace {

constexpr int kBatch = 64;

struct Reactor {
  int epfd = -1;
  uv_poll_t poll;
  Napi::FunctionReference callback;
  napi_env env = nullptr;
};

Reactor* reactor = nullptr;

void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  Reactor* r = static_cast<Reactor*>(handle->data);
  if (status < 0) return;
  Napi::Env env(r->env);
  Napi::HandleScope scope(env);
  for (;;) {
    struct epoll_event evs[kBatch];
    // SAFETY: evs holds kBatch entries; timeout 0 never blocks the loop thread. epoll_pwait
    // (no mask) rather than epoll_wait: it is the call libuv makes, already in the
    // sentry's seccomp allowlist.
    int n = epoll_pwait(r->epfd, evs, kBatch, 0, nullptr);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    Napi::Int32Array out = Napi::Int32Array::New(env, static_cast<size_t>(n) * 2);
    for (int i = 0; i < n; i++) {
      out[i * 2] = evs[i].data.fd;
      out[i * 2 + 1] = static_cast<int32_t>(evs[i].events);
    }
    r->callback.MakeCallback(env.Global(), {out});
    if (n < kBatch) return;
  }
}

// open(callback) -> 0 or -errno: creates the epoll fd and starts watching it. The addon
// is loaded once per process, but a module registry of its own (each jest test file) may
// load reactor.ts again: a later open takes the one reactor over, its events going to the
// newest callback (descriptors the earlier loader left watched are ignored by it).
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "reactor.open: callback must be a function");
  if (reactor != nullptr) {
    reactor->callback = Napi::Persistent(info[0].As<Napi::Function>());
    reactor->env = env;
    return Napi::Number::New(env, 0);
  }
  // SAFETY: a new descriptor owned by the reactor, closed on exec.
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return Napi::Number::New(env, -errno);
  Reactor* r = new Reactor();
  r->epfd = epfd;
  r->env = env;
  r->callback = Napi::Persistent(info[0].As<Napi::Function>());
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int e = uv_poll_init(loop, &r->poll, epfd);
  if (e == 0) {
    r->poll.data = r;
    e = uv_poll_start(&r->poll, UV_READABLE, OnReadable);
  }
  if (e != 0) {
    close(epfd);
    delete r;
    return Napi::Number::New(env, e);
  }
  // The reactor alone keeps nothing alive: the sentry's lifetime is its tasks'.
  uv_unref(reinterpret_cast<uv_handle_t*>(&r->poll));
  reactor = r;
  return Napi::Number::New(env, 0);
}

// ctl(op, fd, events) -> 0 or -errno: epoll_ctl on the reactor's descriptor.
Napi::Value Ctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (reactor == nullptr) return Napi::Number::New(env, -EBADF);
  int op = info[0].As<Napi::Number>().Int32Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  struct epoll_event ev = {};
  ev.events = info[2].As<Napi::Number>().Uint32Value();
  ev.data.fd = fd;
  // SAFETY: ev lives across the call; a bad op or fd is the kernel's to refuse (EINVAL/EBADF).
  int ret = epoll_ctl(reactor->epfd, op, fd, &ev);
  return Napi::Number::New(env, ret < 0 ? -errno : 0);
}

// pollFd(fd, events) -> revents or -errno: one poll(2) with timeout 0 (readiness now).
Napi::Value PollFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct pollfd p = {};
  p.fd = info[0].As<Napi::Number>().Int32Value();
  p.events = static_cast<short>(info[1].As<Napi::Number>().Int32Value());
  // SAFETY: one pollfd on the stack, timeout 0.
  int n = poll(&p, 1, 0);
  if (n < 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, n == 0 ? 0 : p.revents);
}

// ifconf(fd, buf | null) -> ifc_len or -errno: SIOCGIFCONF on the socket fd, filling buf
// (null: only the length needed).
Napi::Value IfConf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ifconf ifc = {};
  if (info[1].IsBuffer()) {
    Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
    ifc.ifc_len = static_cast<int>(b.Length());
    ifc.ifc_buf = b.Data();
  }
  // SAFETY: ifc_buf is the caller's Buffer of ifc_len bytes (or null with length 0, which
  // asks only for the length); the kernel writes at most ifc_len bytes of struct ifreq.
  int r = ioctl(fd, SIOCGIFCONF, &ifc);
  return Napi::Number::New(env, r < 0 ? -errno : ifc.ifc_len);
}

// recvMsg(fd, buf, flags, from, control, out) -> bytes or -errno: recvmsg(2) of a host
// socket of the provider into buf, the sender into `from` (128 bytes), ancillary data into
// `control` (its length is msg_controllen; empty: none asked); into `out` (12 bytes) the
// sender's length, the control bytes written and msg_flags, each a u32.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> buf = info[1].As<Napi::Buffer<char>>();
  int flags = info[2].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> from = info[3].As<Napi::Buffer<char>>();
  Napi::Buffer<char> control = info[4].As<Napi::Buffer<char>>();
  Napi::Buffer<uint8_t> out = info[5].As<Napi::Buffer<uint8_t>>();
  if (from.Length() < 128 || out.Length() < 12) {
    Napi::RangeError::New(env, "recvMsg: from needs 128 bytes and out 12").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct iovec iov = { buf.Data(), buf.Length() };
  struct msghdr msg = {};
  msg.msg_name = from.Data();
  msg.msg_namelen = 128;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.Length() > 0 ? control.Data() : nullptr;
  msg.msg_controllen = control.Length();
  // SAFETY: every pointer in msg is a caller Buffer of the length given beside it; fd is
  // the provider's own host socket.
  ssize_t n = recvmsg(fd, &msg, flags);
  if (n < 0) return Napi::Number::New(env, -errno);
  uint32_t v[3] = { msg.msg_namelen, static_cast<uint32_t>(msg.msg_controllen), static_cast<uint32_t>(msg.msg_flags) };
  memcpy(out.Data(), v, sizeof v);
  return Napi::Number::New(env, static_cast<double>(n));
}

// sendMsg(fd, data, flags, addr | null, control) -> bytes or -errno: sendmsg(2) of one
// buffer with ancillary data the caller has vetted (sentry/net/host/cmsg.ts).
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  int flags = info[2].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> control = info[4].As<Napi::Buffer<char>>();
  struct iovec iov = { data.Data(), data.Length() };
  struct msghdr msg = {};
  if (info[3].IsBuffer()) {
    Napi::Buffer<char> addr = info[3].As<Napi::Buffer<char>>();
    msg.msg_name = addr.Data();
    msg.msg_namelen = static_cast<socklen_t>(addr.Length());
  }
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.Length() > 0 ? control.Data() : nullptr;
  msg.msg_controllen = control.Length();
  // SAFETY: as recvMsg; the kernel reads msg's buffers only.
  ssize_t n = sendmsg(fd, &msg, flags);
  return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["ifconf"] = Napi::Function::New(env, IfConf, "ifconf");
  exports["recvMsg"] = Napi::Function::New(env, RecvMsg, "recvMsg");
  exports["sendMsg"] = Napi::Function::New(env, SendMsg, "sendMsg");
  exports["open"] = Napi::Function::New(env, Open, "open");
  exports["ctl"] = Napi::Function::New(env, Ctl, "ctl");
  exports["pollFd"] = Napi::Function::New(env, PollFd, "pollFd");
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_net, Init)
