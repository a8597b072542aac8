// Live charts of a run with uPlot: batch loss per step, train/test accuracy per evaluation, and
// (when records carry `symmetry`) the number of distinct unit groups per layer.
// Before uPlot: it builds a number formatter from navigator.language when its module loads.
import './locale';
import uPlot from 'uplot';
import type { EvalRecord } from '@mnist-sym-wasm/core';

/** Per-layer symmetry measure an EvalRecord may carry (added by the symmetry analysis). */
export interface SymmetryEntry {
  copies: number;
  groups: number;
  maxRelDiff: number;
}

type Columns = (number | null)[][];

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

class Chart {
  private plot: uPlot | null = null;
  constructor(
    private readonly host: HTMLElement,
    private readonly title: string,
    private readonly yLabel: string,
    private readonly names: string[],
    readonly columns: Columns = [[], ...names.map(() => [])],
  ) {}

  /** Redraws with the current columns (creates the plot on first use, once the host is visible). */
  draw(): void {
    if (!this.plot) {
      this.host.hidden = false;
      const opts: uPlot.Options = {
        title: this.title,
        width: Math.max(300, this.host.clientWidth || 600),
        height: 220,
        scales: { x: { time: false } },
        axes: [
          { label: 'step' },
          // Six significant digits: the seed loss sits near 18.42 and moves in the 4th decimal.
          { label: this.yLabel, size: 64, values: (_u, splits) => splits.map((v) => (v == null ? '' : String(+v.toPrecision(6)))) },
        ],
        series: [
          { label: 'step' },
          ...this.names.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false })),
        ],
      };
      this.plot = new uPlot(opts, this.columns as uPlot.AlignedData, this.host);
    } else {
      this.plot.setData(this.columns as uPlot.AlignedData);
    }
  }

  resize(): void {
    this.plot?.setSize({ width: Math.max(300, this.host.clientWidth), height: 220 });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

/** The page's charts; feed it run events, it redraws at most once per animation frame. */
export class RunCharts {
  private loss: Chart;
  private accuracy: Chart;
  private symmetry: Chart | null = null;
  private symmetryKeys: string[] = [];
  private pending = false;

  constructor(private readonly hosts: { loss: HTMLElement; accuracy: HTMLElement; symmetry: HTMLElement }) {
    this.loss = new Chart(hosts.loss, 'loss', 'loss', ['batch loss', 'train loss', 'test loss']);
    this.accuracy = new Chart(hosts.accuracy, 'accuracy', 'accuracy', ['train', 'test']);
    addEventListener('resize', () => [this.loss, this.accuracy, this.symmetry].forEach((c) => c?.resize()));
  }

  /** Forgets the previous run. */
  reset(): void {
    for (const c of [this.loss, this.accuracy, this.symmetry]) c?.destroy();
    this.loss = new Chart(this.hosts.loss, 'loss', 'loss', ['batch loss', 'train loss', 'test loss']);
    this.accuracy = new Chart(this.hosts.accuracy, 'accuracy', 'accuracy', ['train', 'test']);
    this.symmetry = null;
    this.symmetryKeys = [];
    this.hosts.symmetry.hidden = true;
    this.hosts.symmetry.replaceChildren();
  }

  /** A training step's batch loss. */
  addStep(step: number, loss: number): void {
    const c = this.loss.columns;
    c[0].push(step);
    c[1].push(finiteOrNull(loss));
    c[2].push(null);
    c[3].push(null);
    this.schedule();
  }

  /** An evaluation (accuracy, eval losses, and symmetry groups when present). */
  addEval(record: EvalRecord): void {
    const l = this.loss.columns;
    if (record.step === 0) {
      l[0].push(0);
      l[1].push(null);
      l[2].push(finiteOrNull(record.trainLoss));
      l[3].push(finiteOrNull(record.testLoss));
    } else if (l[0][l[0].length - 1] === record.step) {
      l[2][l[2].length - 1] = finiteOrNull(record.trainLoss);
      l[3][l[3].length - 1] = finiteOrNull(record.testLoss);
    }
    const a = this.accuracy.columns;
    a[0].push(record.step);
    a[1].push(finiteOrNull(record.train));
    a[2].push(finiteOrNull(record.test));
    const symmetry = (record as EvalRecord & { symmetry?: Record<string, SymmetryEntry> }).symmetry;
    if (symmetry && typeof symmetry === 'object') {
      if (!this.symmetry) {
        this.symmetryKeys = Object.keys(symmetry);
        this.symmetry = new Chart(this.hosts.symmetry, 'symmetry: distinct unit groups per layer', 'groups', this.symmetryKeys);
      }
      const s = this.symmetry.columns;
      s[0].push(record.step);
      this.symmetryKeys.forEach((k, i) => s[i + 1].push(finiteOrNull(symmetry[k]?.groups)));
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      for (const c of [this.loss, this.accuracy, this.symmetry]) if (c && c.columns[0].length > 0) c.draw();
    });
  }
}
