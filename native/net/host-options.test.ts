import { HOST_IOCTLS, HOST_OPTIONS, hostIoctlRow, hostOption, SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO } from './host-options';

describe('the host socket allowlist', () => {
  it('gives every option and ioctl a reason, once', () => {
    for (const o of HOST_OPTIONS) expect([o.level, o.name, o.why.length > 10]).toEqual([o.level, o.name, true]);
    for (const i of HOST_IOCTLS) expect([i.name, i.why.length > 5]).toEqual([i.name, true]);
    expect(new Set(HOST_OPTIONS.map((o) => `${o.level}:${o.name}`)).size).toBe(HOST_OPTIONS.length);
    expect(new Set(HOST_IOCTLS.map((i) => i.req)).size).toBe(HOST_IOCTLS.length);
  });

  it('leaves out what would change the host side of the socket', () => {
    // SO_BINDTODEVICE, SO_ATTACH_FILTER, SO_MARK, SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_ATTACH_BPF.
    for (const name of [25, 26, 36, 32, 33, 50]) expect(hostOption(SOL_SOCKET, name)).toBeUndefined();
    // The timeouts are the sentry's: the host socket never blocks.
    expect(hostOption(SOL_SOCKET, SO_RCVTIMEO)).toBeUndefined();
    expect(hostOption(SOL_SOCKET, SO_SNDTIMEO)).toBeUndefined();
    // No SIOCS* (set) request: SIOCSIFFLAGS, SIOCSIFADDR, SIOCADDRT.
    for (const req of [0x8914, 0x8916, 0x890b]) expect(hostIoctlRow(req)).toBeUndefined();
    for (const i of HOST_IOCTLS) expect(i.name).not.toMatch(/^SIOCS/);
  });
});
