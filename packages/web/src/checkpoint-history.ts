// The evaluations a resumed page run starts with. The CLI keeps them in its run folder (CSV and
// metrics.jsonl, cut back to the checkpoint); the page has no folder, so it takes them from the
// checkpoint itself (core's RunProgress.evals), cut the same way. Pure, so it is unit-tested in Node.
import { evaluationSteps, type Checkpoint, type EvalRecord, type ExperimentConfig } from '@mnist-sym-wasm/core';

/**
 * The checkpoint's evaluations that the run resumed with `config` counts as done (those on its
 * schedule up to the checkpoint's step, as `train --resume` keeps), or null when the checkpoint
 * does not carry them all (written by an older build).
 */
export function resumedHistory(checkpoint: Checkpoint, config: ExperimentConfig): EvalRecord[] | null {
  const due = evaluationSteps(config).filter((s) => s <= checkpoint.trainer.step);
  const wanted = new Set(due);
  const kept = (checkpoint.run.evals ?? []).filter((r) => wanted.has(r.step));
  if (kept.length !== due.length || kept.some((r, i) => r.step !== due[i])) return null;
  return kept;
}
