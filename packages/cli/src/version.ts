// The CLI's version (kept equal to packages/cli/package.json "version" by a test).
export const CLI_VERSION = '0.1.0';
