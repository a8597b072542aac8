// Public API of @mnist-sym-wasm/core: configuration, data parsing, the engine start, and the run
// loop with its events. No I/O here: callers pass bytes in and render events out.
export { CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, resolveConfig } from './config';
export type { BatchOrderKind, ConfigField, EvalConvKind, ExperimentConfig, InitScheme, LossKind, ModelKind, PoolTieKind } from './config';
export type { ReduceOrderKind, ReduceShuffleKind } from './config';
export { CheckpointError, ConfigError, DataError, UserInputError, isUserInputError } from './errors';
export { engineInfo } from './engine';
export { initEngine } from './bundled-engine';
export type { EngineInfo, EngineOptions } from './engine';
export type { HeapKernelsHelperData, SpawnHelper } from './own-wasm/heap-kernels';
export { parseIdx, encodeIdx } from './idx';
export type { IdxArray } from './idx';
export { loadMnist, PIXEL_SCALE } from './mnist';
export type { MnistData, MnistFiles, Split } from './mnist';
export { PARAM_NAMES, paramShapes, seedModelShape } from './model';
export type { ModelShape, ParamName } from './model';
export { Trainer, TF_ADAM, validateAgainstData } from './trainer';
export { evaluationSteps, runExperiment, RunStoppedError } from './run-experiment';
export type { EvalRecord, RunEvent, RunHooks, RunSummary } from './run-experiment';
export { formatPercentF6, seedCsvLine } from './seed-csv';
export { hashFloat32Arrays } from './weights-hash';
export { benchmarkSubject, median } from './benchmark';
export type { BenchSubject, BenchTiming } from './benchmark';
export { measure as measureCopies, SYMMETRY_KEYS, symmetryReport } from './symmetry';
export type { SymmetryKey, SymmetryReport, SymmetryStat } from './symmetry';
export { denseToTwin, twinScales, twinToDense } from './twin';
export type { TwinScales } from './twin';
export { TwinChunkScorer, TwinTrainer } from './twin-trainer';
export type { TwinChunkScores, TwinEvalJob, TwinEvalPool } from './twin-trainer';
export { sparseImages, twinGeometry, twinParams, TwinActivations } from './twin-net';
export type { SparseImages, TwinGeometry } from './twin-net';
export { EVAL_CHUNK } from './evaluate';
export { explainSuite, firstSplitStep, maxTestGap, suiteFindings, suiteTable } from './explain-suite';
export type { SuiteEntry, SuiteOptions, SuiteResult, SuiteRow } from './explain-suite';
export { mergeSweepRows, parseShard, parseSweepAxis, shardRuns, sweepPlan, sweepRow } from './sweep-plan';
export type { Shard, SweepAxis, SweepRow, SweepRun, SweepTable } from './sweep-plan';
export { configFileText, metricsLine, RUN_FILES, summaryFileText, toJson } from './run-files';
export {
  CHECKPOINT_FORMAT,
  checkResumeConfig,
  dataFingerprint,
  decodeCheckpoint,
  encodeCheckpoint,
  RESUME_SAFE_KEYS,
} from './checkpoint';
export type { Checkpoint, RunProgress } from './checkpoint';
export type { TrainerState } from './trainer';
export { crc32c, encodeTfRecord, maskedCrc32c, scalarEvent, tfEventsFileName, versionEvent } from './tfevents';
export type { TfScalar } from './tfevents';
export { CORE_VERSION } from './version';
