import fc from 'fast-check';
import { redactReportUrl, redactSecret, reportUrlFixCode } from '../../../src/factory/redact';

describe('report URL redaction', () => {
  test('when the key is a path segment, then it is replaced and the fix code kept', () => {
    const url = 'https://pizza-factory.cs329.click/api/support/abc123key/report/f1x-c0de';

    expect(redactReportUrl(url)).toBe('https://pizza-factory.cs329.click/api/support/[REDACTED]/report/f1x-c0de');
    expect(reportUrlFixCode(url)).toBe('f1x-c0de');
  });

  test('when the key is a query parameter, then it is replaced and the fix code kept', () => {
    const url = 'https://pizza-factory.cs329.click/api/support/report?apiKey=abc123key&fixCode=f1x';

    expect(redactReportUrl(url)).toBe('https://pizza-factory.cs329.click/api/support/report?apiKey=[REDACTED]&fixCode=f1x');
    expect(reportUrlFixCode(url)).toBe('f1x');
  });

  test('when the URL carries no key, then it is unchanged and has no fix code', () => {
    expect(redactReportUrl('http://127.0.0.1:3001/api/order')).toBe('http://127.0.0.1:3001/api/order');
    expect(reportUrlFixCode('http://127.0.0.1:3001/api/order')).toBeNull();
  });

  test('for any key and fix code, the redacted URL of either shape never contains the key and keeps the fix code', () => {
    const token = fc.string({ minLength: 8, maxLength: 40, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'.split('')) });
    fc.assert(
      fc.property(token, token, fc.boolean(), (key, fixCode, inQuery) => {
        fc.pre(!fixCode.includes(key) && !'https://factory.example/api/support/report'.includes(key));
        const url = inQuery
          ? `https://factory.example/api/support/report?apiKey=${key}&fixCode=${fixCode}`
          : `https://factory.example/api/support/${key}/report/${fixCode}`;
        const redacted = redactReportUrl(url);
        expect(redacted).not.toContain(key);
        expect(reportUrlFixCode(redacted)).toBe(fixCode);
      }),
    );
  });

  test('when free text contains the secret, then every occurrence is replaced', () => {
    expect(redactSecret('key k3y and k3y again', 'k3y')).toBe('key [REDACTED] and [REDACTED] again');
    expect(redactSecret('nothing here', '')).toBe('nothing here');
  });
});
