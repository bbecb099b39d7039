import { containerPids, hostPids, PIDS_OVERHEAD } from './pids-share';

describe('pids-share', () => {
  test.each([1, 5, 20, 1000])('the host limit of %d holds two host tasks per task plus the overhead, and gives %d back', (n) => {
    expect(hostPids(n)).toBe(2 * n + PIDS_OVERHEAD);
    expect(containerPids(hostPids(n))).toBe(n);
  });
  test.each([undefined, 0, -1])('%p (unset or unlimited) is kept', (n) => {
    expect(hostPids(n)).toBe(n);
    expect(containerPids(n)).toBe(n);
  });
});
