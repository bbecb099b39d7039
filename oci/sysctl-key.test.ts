/** sysctl keys are read as runc and sysctl(8) read them; a climbing key has no path. */
import { sysctlDotted, sysctlPath } from './sysctl-key';

describe('sysctl keys', () => {
  test('dots and slashes name the same entry; a slash first keeps dots in names', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(sysctlPath('net/ipv4/ip_forward')).toBe('net/ipv4/ip_forward');
    expect(sysctlPath('net/ipv4/conf/eno2.100/rp_filter')).toBe('net/ipv4/conf/eno2.100/rp_filter');
    expect(sysctlDotted('net/ipv4/conf/eno2.100/rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(sysctlPath('kernel.shmmax')).toBe('kernel/shmmax');
  });

  test('an empty, "." or ".." component gives no path', () => {
    for (const key of ['net.ipv4.../../../kernel/hostname', 'net/ipv4/../kernel', 'kernel..shmmax', '.kernel.shmmax', 'kernel.shmmax.', 'net/./x', '']) {
      expect([key, sysctlPath(key)]).toEqual([key, null]);
    }
  });
});
