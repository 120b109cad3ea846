import { classifyReportAnswer, reportCallTarget } from '../../../src/factory/report';
import { recording } from '../../e2e/contract/recordings';

describe('report URLs as the production factory answers them', () => {
  test.each([
    ['13-report-resolve', 'resolved'],
    ['14-report-after-resolution', 'no_chaos'],
    ['15-report-wrong-fixcode', 'unresolved'],
    ['16-report-wrong-apikey', 'no_chaos'],
  ])('%s is %s', (name, outcome) => {
    const { response } = recording(name);
    expect(classifyReportAnswer(response.status, response.body.message ?? '')).toBe(outcome);
  });

  test('an answer outside the recorded ones is an error, not a success', () => {
    expect(classifyReportAnswer(200, 'ok')).toBe('error');
    expect(classifyReportAnswer(500, 'Problem resolved')).toBe('error');
    expect(classifyReportAnswer(302, '')).toBe('error');
  });

  test('the recorded report URLs (host from the Host header, no port, https) are called on the configured factory origin', () => {
    const local = recording('10-order-chaos-fail').response.body.reportUrl as string;
    const other = recording('10b-order-chaos-fail-other-host').response.body.reportUrl as string;
    expect(reportCallTarget(local, 'https://localhost')).toEqual({ target: new URL(new URL(local).pathname, 'https://localhost') });
    expect(reportCallTarget(other, 'https://pizza-factory.example')).toEqual({ target: new URL(other) });
    expect(reportCallTarget(local, 'http://localhost:3001')).toEqual({ target: new URL(`http://localhost:3001${new URL(local).pathname}`) });
    expect(reportCallTarget(other, 'https://localhost')).toEqual({ problem: "its host pizza-factory.example is not the factory's (localhost)" });
  });

  test('anything but the recorded path shape is refused', () => {
    for (const url of ['https://localhost/api/support/k/report/c/extra', 'https://localhost/api/report/c', 'https://u:p@localhost/api/support/k/report/c', 'https://localhost/api/support/k/report/c#x', 'not a url']) {
      expect(reportCallTarget(url, 'https://localhost')).toHaveProperty('problem');
    }
  });
});
