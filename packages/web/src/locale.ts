// Number formatting in any locale: a browser's language tag is not always one Intl accepts
// (WebKitGTK under LANG=C.UTF-8 reports navigator.language "C", and `new Intl.NumberFormat("C")`
// throws). Importing this module before uPlot, which builds its formatter from navigator.language
// when it loads, gives uPlot a checked tag; the page's own formatters take safeLocale().

/** The locale used when the browser's tag is not one Intl can format numbers in. */
export const FALLBACK_LOCALE = 'en-US';

/**
 * A BCP 47 tag Intl.NumberFormat supports for `tag`, else FALLBACK_LOCALE; never throws. POSIX
 * locale names are read as what they mean (`de_DE.UTF-8` as `de-DE`; `C` and `POSIX` fall back).
 */
export function safeLocale(tag: unknown): string {
  if (typeof tag !== 'string') return FALLBACK_LOCALE;
  const bcp47 = tag.replace(/[.@].*$/, '').replace(/_/g, '-');
  if (bcp47 === '' || bcp47 === 'C' || bcp47 === 'POSIX') return FALLBACK_LOCALE;
  try {
    // Constructing it too catches an engine that lists a tag it then refuses.
    const [supported] = Intl.NumberFormat.supportedLocalesOf(bcp47);
    return supported && new Intl.NumberFormat(supported).resolvedOptions().locale ? supported : FALLBACK_LOCALE;
  } catch {
    return FALLBACK_LOCALE; // RangeError: invalid language tag ("C", "en_US", …)
  }
}

/**
 * Makes navigator.language a tag Intl accepts in this scope (only when it is not one), so libraries
 * that read it unchecked keep working. Returns the browser's own tag and the one now in use.
 */
export function guardNavigatorLanguage(): { reported: string; used: string } {
  const nav = globalThis.navigator as Navigator | undefined;
  const reported = nav ? String(nav.language) : '';
  const used = safeLocale(reported);
  if (nav && used !== reported) {
    try {
      Object.defineProperty(nav, 'language', { value: used, configurable: true });
    } catch {
      // A navigator that refuses the redefinition: nothing more can be done from here.
    }
  }
  return { reported, used };
}

/** The guard, applied once when this module loads (before uPlot's own module code runs). */
export const pageLocale = guardNavigatorLanguage();
