import { randomBytes } from 'node:crypto';
import { signToken, verifyToken } from '../../../src/auth/tokens';

// verifyToken remembers tokens that verified; these tests check that what it remembers never outlives
// what jsonwebtoken itself would accept.
describe('tokens: verified tokens remembered', () => {
  const secret = randomBytes(32).toString('hex');

  afterEach(() => jest.useRealTimers());

  test('when a remembered token reaches its exp, then it is refused', () => {
    jest.useFakeTimers({ now: new Date('2026-11-22T12:00:00.000Z') });
    const token = signToken({ userId: 7, sessionId: 'session-a' }, secret, 60);
    expect(verifyToken(token, secret)).toEqual({ userId: 7, sessionId: 'session-a' });
    expect(verifyToken(token, secret)).toEqual({ userId: 7, sessionId: 'session-a' });

    jest.setSystemTime(new Date('2026-11-22T12:00:59.999Z'));
    expect(verifyToken(token, secret)).toEqual({ userId: 7, sessionId: 'session-a' });
    jest.setSystemTime(new Date('2026-11-22T12:01:00.000Z'));
    expect(verifyToken(token, secret)).toBeUndefined();
    expect(verifyToken(token, secret)).toBeUndefined();
  });

  test('when a token verified under one secret is presented under another, then it is refused', () => {
    const token = signToken({ userId: 8, sessionId: 'session-b' }, secret, 60);
    expect(verifyToken(token, secret)).toEqual({ userId: 8, sessionId: 'session-b' });

    expect(verifyToken(token, randomBytes(32).toString('hex'))).toBeUndefined();
  });

  test('when a remembered token is altered by one character of its signature or payload, then it is refused', () => {
    const token = signToken({ userId: 9, sessionId: 'session-c' }, secret, 60);
    expect(verifyToken(token, secret)).toBeDefined();
    const [header, payload, signature] = token.split('.');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

    expect(verifyToken(`${header}.${payload}.${flip(signature, 3)}`, secret)).toBeUndefined();
    expect(verifyToken(`${header}.${flip(payload, 5)}.${signature}`, secret)).toBeUndefined();
  });
});
