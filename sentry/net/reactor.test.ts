import { check, libcFunc } from '../../native/libc';
import { EPOLLIN, EPOLLOUT, pollNow, reactor } from './reactor';

const pipe2 = libcFunc('int pipe2(_Out_ int *fds, int flags)');
const write = libcFunc('long write(int fd, const uint8_t *buf, unsigned long n)');
const read = libcFunc('long read(int fd, _Out_ uint8_t *buf, unsigned long n)');
const close = libcFunc('int close(int fd)');
const O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000;

function hostPipe(): [number, number] {
  const fds = [0, 0];
  check('pipe2', pipe2(fds, O_NONBLOCK | O_CLOEXEC) as number);
  return [fds[0], fds[1]];
}

describe('host-I/O reactor', () => {
  it('calls back when a watched host pipe becomes readable, once per edge, and not after unwatch', async () => {
    const [r, w] = hostPipe();
    const seen: number[] = [];
    let wake: () => void = () => {};
    reactor().watch(r, EPOLLIN, (ev) => { seen.push(ev); wake(); });
    expect(pollNow(r, EPOLLIN)).toBe(0);
    const got = new Promise<void>((res) => { wake = res; });
    expect(write(w, Buffer.from('x'), 1)).toBe(1);
    await got;
    expect(seen).toEqual([EPOLLIN]);
    expect(pollNow(r, EPOLLIN)).toBe(EPOLLIN);
    const b = Buffer.alloc(4);
    expect(read(r, b, 4)).toBe(1);
    reactor().unwatch(r);
    expect(write(w, Buffer.from('y'), 1)).toBe(1);
    await new Promise((res) => setTimeout(res, 20));
    expect(seen).toEqual([EPOLLIN]);
    close(r);
    close(w);
    expect(reactor().watching).toBe(0);
  });

  it('reports writability of the write end', async () => {
    const [r, w] = hostPipe();
    const got = new Promise<number>((res) => reactor().watch(w, EPOLLOUT, res));
    expect(await got).toBe(EPOLLOUT);
    reactor().unwatch(w);
    close(r);
    close(w);
  });

  it('refuses a descriptor that is not open, naming it', () => {
    expect(() => reactor().watch(987654, EPOLLIN, () => {})).toThrow(/cannot watch fd 987654/);
  });
});
