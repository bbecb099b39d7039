/** device-cgroup.ts: rule order, resets, runc's defaults and access letters. */
import { deviceAllowed, setDeviceRules } from './device-cgroup';

describe('device rules', () => {
  afterEach(() => setDeviceRules([]));

  test('without rules every device is allowed', () => {
    setDeviceRules([]);
    expect(deviceAllowed(true, 8, 0, 'rw')).toBe(true);
  });

  test('deny all, then runc\'s defaults and the spec\'s own rules', () => {
    setDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }]);
    expect(deviceAllowed(false, 1, 3, 'rw')).toBe(true); // null, runc's default
    expect(deviceAllowed(false, 136, 42, 'rw')).toBe(true); // any pts
    expect(deviceAllowed(false, 1, 1, 'r')).toBe(false); // mem
    expect(deviceAllowed(true, 7, 0, 'r')).toBe(true);
    expect(deviceAllowed(true, 7, 0, 'rw')).toBe(false); // "r" only
  });

  test('the last matching rule decides; an "a" rule resets what came before', () => {
    setDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, access: 'rw' }, { allow: false, type: 'c', major: 4, minor: 1, access: 'w' }]);
    expect(deviceAllowed(false, 4, 0, 'rw')).toBe(true);
    expect(deviceAllowed(false, 4, 1, 'r')).toBe(true);
    expect(deviceAllowed(false, 4, 1, 'w')).toBe(false);
    setDeviceRules([{ allow: false, type: 'c', major: 4, access: 'rw' }, { allow: true, access: 'rwm' }]);
    expect(deviceAllowed(false, 4, 0, 'rw')).toBe(true);
  });
});
