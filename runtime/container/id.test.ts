import { validateID } from './id';
import { InvalidIDError } from './errors';

describe('validateID', () => {
  test.each(['a', 'web-1', 'x_y.z', 'a+b,c', '0123456789abcdef', 'A'.repeat(255)])('accepts %j', (id) => {
    expect(validateID(id)).toBe(id);
  });
  test.each(['', '.', '..', 'a/b', '../x', 'a b', 'é', 'a\n', 'x'.repeat(256), 'a:b'])('rejects %j', (id) => {
    expect(() => validateID(id)).toThrow(InvalidIDError);
  });
});
