// `--tensorboard`: one event file in --out with a scalar event per evaluation, so
// `tensorboard --logdir runs` plots the question's curves. The bytes come from core's tfevents.
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { scalarEvent, tfEventsFileName, versionEvent, UserInputError, type EvalRecord, type TfScalar } from '@mnist-sym-wasm/core';
import { writeFileAtomic } from './checkpoint-files';

/**
 * The scalars of one evaluation: the question's `training_accuracy` and `loss` (the last batch's
 * loss), `test_accuracy`, and each copy set's symmetry groups (bitwise and within tolerance).
 */
export function evalScalars(record: EvalRecord): TfScalar[] {
  const out: TfScalar[] = [];
  const num = (v: unknown) => (typeof v === 'string' ? Number(v) : (v as number)); // metrics.jsonl spells NaN "NaN"
  if (record.train !== null) out.push({ tag: 'training_accuracy', value: num(record.train) });
  if (record.batchLoss !== null) out.push({ tag: 'loss', value: num(record.batchLoss) });
  out.push({ tag: 'test_accuracy', value: num(record.test) });
  for (const [key, stat] of Object.entries(record.symmetry ?? {})) {
    out.push({ tag: `symmetry/${key}/groups`, value: stat.groups });
    out.push({ tag: `symmetry/${key}/groups_tol`, value: stat.groupsTol });
  }
  return out;
}

const seconds = () => Date.now() / 1000;

/** Appends evaluation events to one event file in the run folder. */
export class TensorBoardWriter {
  readonly path: string;

  /** `fileName` continues an existing run's file (rewritten from its records by {@link rebuild}). */
  constructor(
    readonly runDir: string,
    readonly fileName = tfEventsFileName(seconds(), hostname()),
  ) {
    this.path = join(runDir, fileName);
  }

  /** (Re)writes the file atomically: the version event, then one event per record. */
  rebuild(records: EvalRecord[]): void {
    const parts = [versionEvent(seconds()), ...records.map((r) => scalarEvent(seconds(), r.step, evalScalars(r)))];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      bytes.set(p, offset);
      offset += p.length;
    }
    writeFileAtomic(this.path, bytes);
  }

  /** Appends one evaluation's scalars. */
  write(record: EvalRecord): void {
    try {
      appendFileSync(this.path, scalarEvent(seconds(), record.step, evalScalars(record)));
    } catch (e) {
      throw new UserInputError(`cannot write '${this.path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}
