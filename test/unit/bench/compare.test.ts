import { parseVariant } from '../../../bench/compare';
import { median } from '../../../bench/lib/load';

describe('bench/compare variants', () => {
  test('when a variant names only itself, then it runs with the bench environment as it is', () => {
    expect(parseVariant('on')).toEqual({ name: 'on', env: {}, warm: [] });
  });

  test('when a variant has overrides and warm-ups, then the overrides go to its environment and WARM does not', () => {
    expect(parseVariant('served:TELEMETRY_ENABLED=false,LOG_LEVEL=warn,WARM=orders+reads')).toEqual({
      name: 'served',
      env: { TELEMETRY_ENABLED: 'false', LOG_LEVEL: 'warn' },
      warm: ['orders', 'reads'],
    });
  });

  test('when a variant names BUILD, then it runs that checkout\'s build and BUILD is not in its environment', () => {
    expect(parseVariant('before:BUILD=/tmp/before,LOG_LEVEL=warn')).toEqual({ name: 'before', env: { LOG_LEVEL: 'warn' }, warm: [], root: '/tmp/before' });
  });

  test('when a value holds = or :, then it is kept whole', () => {
    expect(parseVariant('ext:FACTORY_URL=http://127.0.0.1:9/x?a=b').env).toEqual({ FACTORY_URL: 'http://127.0.0.1:9/x?a=b' });
  });

  test('when a variant is malformed or names an unknown warm-up, then it is refused', () => {
    expect(() => parseVariant('bad name')).toThrow(/bad variant name/);
    expect(() => parseVariant('x:NOVALUE')).toThrow(/KEY=VALUE expected/);
    expect(() => parseVariant('x:WARM=everything')).toThrow(/unknown warm-up everything/);
  });

  test('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
