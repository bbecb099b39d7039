import { sandboxMemoryOverhead } from '../../sentry/limits';
import { containerMemory, hostMemory } from './memory-share';

const MiB = 1024 * 1024;

describe('memory-share', () => {
  test('the host cgroup gets the container limit plus the sandbox share, and the container figure reads back', () => {
    for (const limit of [4 * MiB, 64 * MiB, 100 * MiB, 512 * MiB, 1000 * MiB, 4096 * MiB, 64 * 1024 * MiB]) {
      const host = hostMemory(limit)!;
      expect(host).toBe(limit + sandboxMemoryOverhead(limit));
      expect(containerMemory(host)).toBe(limit);
    }
  });

  test('unset and unlimited stay so', () => {
    expect(hostMemory(undefined)).toBeUndefined();
    expect(hostMemory(-1)).toBe(-1);
    expect(containerMemory(-1)).toBe(-1);
    expect(containerMemory(9223372036854771712)).toBe(9223372036854771712);
  });
});
