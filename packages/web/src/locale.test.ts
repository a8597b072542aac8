// Locale tags as browsers report them, valid or not, become tags Intl can format with.
import { expect, test } from 'vitest';
import { FALLBACK_LOCALE, safeLocale } from './locale';

test('valid tags pass, unchecked ones fall back to en-US without throwing', () => {
  expect(safeLocale('de-DE')).toBe('de-DE');
  expect(safeLocale('ar')).toBe('ar');
  expect(safeLocale('de_DE')).toBe('de-DE');
  expect(safeLocale('en_US.UTF-8')).toBe('en-US');
  for (const bad of ['C', 'C.UTF-8', 'POSIX', 'not a tag', '', undefined, 42]) expect(safeLocale(bad)).toBe(FALLBACK_LOCALE);
  for (const tag of ['C', 'en_US', 'de_DE', 'ar', 'en-US'])
    expect(() => new Intl.NumberFormat(safeLocale(tag)).format(1234.5)).not.toThrow();
});
