import { constants } from 'node:os';
import { parseSignal } from './signal';

describe('parseSignal', () => {
  test.each([
    ['KILL', constants.signals.SIGKILL], ['SIGKILL', constants.signals.SIGKILL], ['sigterm', constants.signals.SIGTERM],
    ['term', constants.signals.SIGTERM], ['9', 9], ['15', 15], ['HUP', constants.signals.SIGHUP],
    ['SIGUSR1', constants.signals.SIGUSR1], ['RTMIN', 34], ['SIGRTMIN+3', 37], ['RTMAX-1', 63], ['64', 64], ['0', 0],
  ])('%s is %d', (text, n) => {
    expect(parseSignal(text)).toBe(n);
  });
  test.each(['65', 'SIGFOO', '', 'RTMIN+40', '-9'])('rejects %j', (text) => {
    expect(() => parseSignal(text)).toThrow(/signal/);
  });
});
