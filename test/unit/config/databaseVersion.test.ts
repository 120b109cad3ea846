import { mariadbAtLeast } from '../../../src/shared/db';

describe('mariadbAtLeast', () => {
  test.each([
    ['10.11.19-MariaDB-0+deb12u1', true],
    ['10.5.0-MariaDB', true],
    ['11.4.2-MariaDB-log', true],
    ['10.4.32-MariaDB', false],
    ['8.0.36', false],
    ['8.4.0-commercial', false],
    ['', false],
  ])('%s → %s', (version, expected) => {
    expect(mariadbAtLeast(version, [10, 5])).toBe(expected);
  });
});
