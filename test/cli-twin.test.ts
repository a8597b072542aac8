// `train --model twin` through the built CLI: the width-1 twin runs the same protocol and files,
// records the model in the config, and reports one copy per set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { QUICK, runCli, tempDir } from './helpers';

describe('train --model twin', () => {
  const out = join(tempDir(), 'twin');
  const r = runCli(['train', ...QUICK, '--model', 'twin', '--steps', '20', '--eval-every', '10', '--out', out]);

  test('writes the run files with the twin recorded in the config', () => {
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.config.model).toBe('twin');
    expect(summary.config.widths).toEqual([32, 64, 1024]);
    expect(summary.symmetry['fc1.out']).toEqual({ copies: 1, groups: 1, groupsTol: 1, maxRelDiff: 0 });
    // The twin's one fc1 unit and its one conv1 and conv2 channel (standing for all the dense copies).
    const none = { units: 1, dead: 0, died: [] };
    expect(summary.deadUnits).toEqual({ fc1: none, conv1: none, conv2: none });
    const csv = readFileSync(join(out, 'validation-curve-accuracy.csv'), 'utf8').trimEnd().split('\n');
    expect(csv.map((l) => l.split(';')[0])).toEqual(['0', '10', '20']);
  });

  test('rejects an unknown model with one line', () => {
    const bad = runCli(['train', ...QUICK, '--model', 'wide', '--out', join(out, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid model: 'wide' \(expected dense\|twin\)/);
  });

  test('evaluates on worker threads, overlapped with training, with bitwise the same metrics and weights as on one thread', () => {
    const base = tempDir();
    // The embedded MNIST: evaluations of 3000 train and 10000 test images are several 1000-image
    // chunks, so the worker really scores some of them.
    const args = ['train', '--model', 'twin', '--steps', '10', '--eval-every', '5', '--eval-train', '3000'];
    const one = runCli([...args, '--threads', '1', '--out', join(base, 't1')]);
    const two = runCli([...args, '--threads', '2', '--out', join(base, 't2')]);
    const three = runCli([...args, '--threads', '3', '--out', join(base, 't3')]); // two workers share the chunks
    expect(one.status).toBe(0);
    expect(two.status).toBe(0);
    expect(three.status).toBe(0);
    const read = (d: string) => readFileSync(join(base, d, 'metrics.jsonl'), 'utf8').replace(/"elapsedMs":[^,]*,/g, '');
    expect(read('t1')).toMatch(/"activity":\{"fc1":\{"images":13000,"groups":\[\{"units":\[\[0,0\]\],"active":/);
    expect(read('t2')).toBe(read('t1'));
    expect(read('t3')).toBe(read('t1'));
    expect(readFileSync(join(base, 't3', 'validation-curve-accuracy.csv'), 'utf8')).toBe(
      readFileSync(join(base, 't1', 'validation-curve-accuracy.csv'), 'utf8'),
    );
    const hash = (d: string) => JSON.parse(readFileSync(join(base, d, 'summary.json'), 'utf8')).weightsSha256;
    expect(hash('t2')).toBe(hash('t1'));
    expect(hash('t3')).toBe(hash('t1'));
  });
});
