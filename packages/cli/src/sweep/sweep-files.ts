// Reading a sweep folder's plan.json and rows/run-*.json back, field by field: a damaged or foreign
// file is refused with one line naming the file and the field (exit 2), never an internal failure.
import { readFileSync } from 'node:fs';
import { SYMMETRY_KEYS, UserInputError, type SweepRow } from '@mnist-sym-wasm/core';

/** A plan file's text (shards must agree on it bitwise) and its size. */
export interface PlanFile {
  text: string;
  planSize: number;
}

function readJson(path: string): { text: string; value: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserInputError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    throw new UserInputError(`sweep file '${path}' is damaged: not valid JSON`); // JSON.parse's message quotes the text
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Field checkers: each returns the value (non-finite numbers decoded from toJson's strings) or throws. */
function fields(path: string) {
  const bad = (field: string, want: string): never => {
    throw new UserInputError(`sweep file '${path}' is damaged: field '${field}' is missing or not ${want}`);
  };
  const number = (o: Record<string, unknown>, key: string, field: string): number => {
    const v = o[key];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
    return bad(field, 'a number');
  };
  const integer = (o: Record<string, unknown>, key: string, field: string, min: number): number => {
    const v = o[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : bad(field, `an integer >= ${min}`);
  };
  return {
    bad,
    number,
    integer,
    numberOrNull: (o: Record<string, unknown>, key: string, field: string) => (o[key] === null ? null : number(o, key, field)),
    integerOrNull: (o: Record<string, unknown>, key: string, field: string, min: number) =>
      o[key] === null ? null : integer(o, key, field, min),
  };
}

/** Reads and checks `plan.json`. */
export function readPlanFile(path: string): PlanFile {
  const { text, value } = readJson(path);
  const f = fields(path);
  if (!isObject(value)) f.bad('(top level)', 'an object');
  const plan = value as Record<string, unknown>;
  const planSize = f.integer(plan, 'planSize', 'planSize', 1);
  if (!Array.isArray(plan.runs) || plan.runs.length !== planSize) f.bad('runs', `a list of planSize (${planSize}) runs`);
  return { text, planSize };
}

/** Reads and checks one `rows/run-*.json`; returns its row. */
export function readRowFile(path: string, planSize: number): SweepRow {
  const { value } = readJson(path);
  const f = fields(path);
  if (!isObject(value) || !isObject(value.row)) return f.bad('row', 'an object');
  const r = value.row;
  const index = f.integer(r, 'index', 'row.index', 0);
  if (index >= planSize) f.bad('row.index', `an index of the plan (0..${planSize - 1})`);
  if (!isObject(r.varied)) f.bad('row.varied', 'an object');
  if (!isObject(r.groups)) f.bad('row.groups', 'an object');
  const groups = r.groups as Record<string, unknown>;
  if (typeof r.weightsSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.weightsSha256)) f.bad('row.weightsSha256', 'a SHA-256 hex digest');
  return {
    index,
    varied: r.varied as Record<string, unknown>,
    steps: f.integer(r, 'steps', 'row.steps', 0),
    train: f.numberOrNull(r, 'train', 'row.train'),
    test: f.number(r, 'test', 'row.test'),
    loss: f.numberOrNull(r, 'loss', 'row.loss'),
    firstNanStep: f.integerOrNull(r, 'firstNanStep', 'row.firstNanStep', 0),
    groups: Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, f.integer(groups, k, `row.groups.${k}`, 1)])),
    weightsSha256: r.weightsSha256 as string,
    msPerStep: f.number(r, 'msPerStep', 'row.msPerStep'),
    ...(r.fc1Dead === undefined ? {} : { fc1Dead: readFc1Dead(f, r.fc1Dead) }),
  };
}

/** A row's optional `fc1Dead` (rows written before it existed have none). */
function readFc1Dead(f: ReturnType<typeof fields>, v: unknown): NonNullable<SweepRow['fc1Dead']> {
  if (!isObject(v)) return f.bad('row.fc1Dead', 'an object');
  return {
    dead: f.integer(v, 'dead', 'row.fc1Dead.dead', 0),
    units: f.integer(v, 'units', 'row.fc1Dead.units', 1),
    firstStep: f.integerOrNull(v, 'firstStep', 'row.fc1Dead.firstStep', 0),
  };
}
