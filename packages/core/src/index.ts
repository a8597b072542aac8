// Public API of @mnist-sym-wasm/core: configuration, data parsing, the engine start, and the run
// loop with its events. No I/O here: callers pass bytes in and render events out.
export { CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, resolveConfig } from './config';
export type { BatchOrderKind, ConfigField, EvalConvKind, ExperimentConfig, InitScheme, LossKind, ModelKind, PoolTieKind } from './config';
export type { ReduceOrderKind, ReduceShuffleKind, SymmetricExecKind } from './config';
export { CheckpointError, ConfigError, DataError, UserInputError, isUserInputError } from './errors';
export { engineInfo } from './engine/engine';
export { initEngine } from './engine/bundled-engine';
export type { EngineInfo, EngineOptions } from './engine/engine';
export type { HeapKernelsHelperData, SpawnHelper } from './own-wasm/heap-kernels';
export { parseIdx, encodeIdx } from './data/idx';
export type { IdxArray } from './data/idx';
export { loadMnist, PIXEL_SCALE } from './data/mnist';
export type { MnistData, MnistFiles, Split } from './data/mnist';
export { PARAM_NAMES, paramShapes, seedModelShape } from './dense/model';
export type { ModelShape, ParamName } from './dense/model';
export { Trainer } from './dense/trainer';
export { TF_ADAM } from './dense/adam';
export { validateAgainstData } from './data/config-fits-data';
export { evaluationSteps, runExperiment, RunStoppedError } from './run/run-experiment';
export type { EvalRecord, RunEvent, RunHooks, RunSummary } from './run/run-experiment';
export { formatPercentF6, seedCsvLine } from './run/seed-csv';
export { hashFloat32Arrays } from './run/weights-hash';
export { benchmarkProtocol, benchmarkSubject, ENGINE_SUBJECTS, median } from './run/benchmark';
export type { BenchSubject, BenchTiming, ProtocolSubject, ProtocolTiming } from './run/benchmark';
export { measure as measureCopies, SYMMETRY_KEYS, symmetryReport } from './science/symmetry';
export type { SymmetryKey, SymmetryReport, SymmetryStat } from './science/symmetry';
export { convGroups, deadUnits, fc1Activity, fc1Groups, rangeSize } from './science/unit-activity';
export type { DeadUnits, UnitActivity, UnitRanges } from './science/unit-activity';
export { denseToTwin, twinScales, twinToDense } from './twin/twin';
export type { TwinScales } from './twin/twin';
export { OrbitChunkScorer } from './dense/symmetric-eval';
export type { DenseEvalJob, DenseEvalPool, OrbitChunkScore } from './dense/symmetric-eval';
export { orbitSizes } from './dense/symmetric-orbit';
export { TwinChunkScorer, TwinTrainer } from './twin/twin-trainer';
export type { TwinChunkScores, TwinEvalJob, TwinEvalPool } from './twin/twin-trainer';
export { sparseImages, twinGeometry, twinParams, TwinActivations } from './twin/twin-net';
export type { SparseImages, TwinGeometry } from './twin/twin-net';
export { EVAL_CHUNK } from './dense/evaluate';
export { explainSuite, firstSplitStep, maxTestGap, suiteFindings, suiteTable } from './science/explain-suite';
export type { SuiteEntry, SuiteOptions, SuiteResult, SuiteRow } from './science/explain-suite';
export { FULL_ORDER_SEEDS, FULL_PERTURBS, QUICK_LENGTHS, QUICK_PERTURBS, QUICK_TEST_IMAGES, TINY_PERTURB } from './science/explain-suite';
export { EXPLAIN_THRESHOLDS, leftPlateau, THRESHOLD_DEFINITIONS } from './science/explain-findings';
export type { ExplainPlan, ExplainReport, Finding, SuiteRole } from './science/explain-types';
export { explainReport, firstTestImages, runExplainSuite } from './science/explain-run';
export type { ExplainHooks } from './science/explain-run';
export { escapeHtml, explainPlots, svgLineChart } from './science/explain-plots';
export type { ExplainPlot, PlotSeries } from './science/explain-plots';
export { mergeSweepRows, parseShard, parseSweepAxis, shardRuns, sweepPlan, sweepRow } from './science/sweep-plan';
export type { Shard, SweepAxis, SweepRow, SweepRun, SweepTable } from './science/sweep-plan';
export { configFileText, metricsLine, RUN_FILES, summaryFileText, toJson } from './run/run-files';
export {
  CHECKPOINT_FORMAT,
  checkResumeConfig,
  dataFingerprint,
  decodeCheckpoint,
  encodeCheckpoint,
  RESUME_SAFE_KEYS,
} from './run/checkpoint';
export type { Checkpoint, RunProgress } from './run/checkpoint';
export type { TrainerState } from './run/trainer-state';
export { crc32c, encodeTfRecord, maskedCrc32c, scalarEvent, tfEventsFileName, versionEvent } from './run/tfevents';
export type { TfScalar } from './run/tfevents';
export { CORE_VERSION } from './version';
