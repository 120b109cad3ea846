import { FACTORY_TEST_FILE } from './factory';
import { HTTP_TEST_FILE } from './http';
import { APRIL_TEST_FILE, NOVEMBER_TEST_FILE } from './incidents';
import type { RuleTestFile } from './model';
import { PLATFORM_TEST_FILE } from './platform';
import { PURCHASES_TEST_FILE } from './purchases';
import { SECURITY_TEST_FILE } from './security';

export const RULE_TEST_FILES: readonly RuleTestFile[] = [
  NOVEMBER_TEST_FILE,
  APRIL_TEST_FILE,
  PURCHASES_TEST_FILE,
  FACTORY_TEST_FILE,
  HTTP_TEST_FILE,
  SECURITY_TEST_FILE,
  PLATFORM_TEST_FILE,
];
