// The engine's version, recorded in every run and checkpoint (kept equal to package.json by a test).

/** Version of the engine (recorded in every run). */
export const CORE_VERSION = '0.1.0';
