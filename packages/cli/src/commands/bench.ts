// `mnist-sym-wasm bench`: times the training step and evaluation of the engine and of the
// baselines available on this machine, in one process, and prints medians and ratios.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { Command, Option } from 'commander';
import { startDenseEvalPool } from '../run/dense-eval-pool';
import {
  initEngine,
  benchmarkProtocol,
  benchmarkSubject,
  CORE_VERSION,
  ENGINE_SUBJECTS,
  loadMnist,
  median,
  resolveConfig,
  UserInputError,
  type BenchSubject,
  type BenchTiming,
  type EngineInfo,
  type ProtocolSubject,
  type ProtocolTiming,
} from '@mnist-sym-wasm/core';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { findTorchPython, timePytorch } from '../pytorch/pytorch-baseline';
import { toJson } from '../run/run-directory';

/** What bench can time; pytorch only where a python3 imports torch. */
const SUBJECTS = [
  ...ENGINE_SUBJECTS,
  'engine-shuffled-bias',
  'engine-shuffled-filter',
  'engine-shuffled-all',
  'stock-wasm',
  'tfjs-cpu',
  'pytorch',
  'protocol',
  'protocol-plain',
];
const PROTOCOL_SUBJECTS: readonly string[] = ['protocol', 'protocol-plain'];
/** What bench times by default: all but engine-shuffled-all (the other two shuffled subjects bound its cost). */
const DEFAULT_SUBJECTS = SUBJECTS.filter((s) => s !== 'engine-shuffled-all');

interface BenchOptions {
  threads: string;
  samples: string;
  warmup: string;
  evalImages: string;
  cpuSteps: string;
  protocolSteps: string;
  subjects: string;
  json?: boolean;
  out?: string;
  profile?: boolean;
}

/** One timed subject: the engine's and the tfjs baselines' timings, or PyTorch's (no tensor or heap counts). */
export type BenchRow =
  | BenchTiming
  | (Omit<BenchTiming, 'subject' | 'backend' | 'tensorsGrowth' | 'wasmHeapBytes'> & {
      subject: 'pytorch';
      backend: string;
      tensorsGrowth: null;
      wasmHeapBytes: null;
    });

/** Everything a benchmark run measured, with the machine it ran on. */
export interface BenchReport {
  command: string;
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string };
  engine: EngineInfo;
  coreVersion: string;
  results: BenchRow[];
  /** The protocol subjects: shortened runs of the question's protocol, projected to the whole. */
  protocol: ProtocolTiming[];
  pytorch: string;
  /** Peak resident memory of this process (MiB); child processes report their own. */
  peakRssMiB: number;
}

function count(raw: string, name: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UserInputError(`invalid ${name}: '${raw}' (expected an integer >= ${min})`);
  return n;
}

/** Times one engine or protocol subject alone at `threads` threads in a fresh process. */
function benchInChild(subject: string, threads: number, options: BenchOptions): BenchReport {
  process.stderr.write(`bench: ${subject}, ${threads} threads (child process)...\n`);
  const args = [
    process.argv[1],
    'bench',
    '--subjects',
    subject,
    '--threads',
    String(threads),
    '--samples',
    options.samples,
    '--warmup',
    options.warmup,
    '--eval-images',
    options.evalImages,
    '--cpu-steps',
    '0',
    '--protocol-steps',
    options.protocolSteps,
    '--json',
    ...(options.profile ? ['--profile'] : []),
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench child for ${threads} threads failed (exit ${r.status})`);
  return JSON.parse(r.stdout) as BenchReport;
}

/** Runs the benchmark and returns the report (printing is separate). */
export async function bench(options: BenchOptions): Promise<BenchReport> {
  const samples = count(options.samples, 'samples', 1);
  const warmup = count(options.warmup, 'warmup', 0);
  const evalImages = count(options.evalImages, 'eval-images', 0);
  const cpuSteps = count(options.cpuSteps, 'cpu-steps', 0);
  const protocolSteps = count(options.protocolSteps, 'protocol-steps', 1);
  const subjects = options.subjects.split(',') as (BenchSubject | 'pytorch')[];
  for (const s of subjects) {
    if (!SUBJECTS.includes(s)) throw new UserInputError(`invalid subjects: '${s}' (expected ${SUBJECTS.join(',')})`);
  }
  const threadCounts = options.threads.split(',').map((t) => count(t, 'threads', 1));
  // The wasm thread pool is fixed when the engine starts, so each extra thread count of the
  // engine is timed in a child process; this process runs the first count and the baselines.
  const [ownThreads, ...otherThreads] = threadCounts;
  const config = resolveConfig({ threads: ownThreads });
  const data = loadMnist(readMnistFiles(embeddedMnistDir()), config.validationSize);
  const engine = await initEngine({ threads: config.threads });
  const results: BenchRow[] = [];
  const protocol: ProtocolTiming[] = [];
  const torch = subjects.includes('pytorch') ? findTorchPython() : null;
  for (const subject of subjects) {
    if (subject === 'pytorch') {
      if (!torch) continue;
      for (const threads of threadCounts) {
        process.stderr.write(`bench: pytorch ${torch.version}, ${threads} threads...\n`);
        const t = timePytorch(torch, threads, samples, warmup, evalImages);
        results.push({
          subject: 'pytorch',
          backend: `torch ${t.version} cpu`,
          threads: t.threads,
          stepMs: t.stepMs,
          medianStepMs: median(t.stepMs),
          evalImagesPerSecond: t.evalImagesPerSecond,
          evalDirectImagesPerSecond: null,
          tensorsGrowth: null,
          wasmHeapBytes: null,
          profile: null,
        });
      }
      continue;
    }
    if (PROTOCOL_SUBJECTS.includes(subject)) {
      process.stderr.write(`bench: ${subject}, ${protocolSteps} steps...\n`);
      // As `train` does: the symmetric network's evaluations on the other threads.
      const pool =
        (subject as string) === 'protocol' && engine.threads > 1
          ? startDenseEvalPool(data, config, engine.threads - 1, process.argv[1])
          : undefined;
      try {
        protocol.push(
          await benchmarkProtocol(subject as ProtocolSubject, config, data, {
            steps: protocolSteps,
            threads: engine.threads,
            denseEvalPool: pool,
          }),
        );
      } finally {
        await pool?.close();
      }
      protocol.push(...otherThreads.map((t) => benchInChild(subject, t, options).protocol[0]));
      continue;
    }
    const isCpu = subject === 'tfjs-cpu';
    if (isCpu && cpuSteps === 0) continue;
    process.stderr.write(`bench: ${subject}...\n`);
    results.push(
      await benchmarkSubject(subject, config, data, {
        warmup: isCpu ? 0 : warmup,
        samples: isCpu ? cpuSteps : samples,
        evalImages: subject === 'engine' || subject === 'engine-plain' ? evalImages : 0,
        threads: engine.threads,
        profile: options.profile === true,
      }),
    );
    if (ENGINE_SUBJECTS.includes(subject)) results.push(...otherThreads.map((t) => benchInChild(subject, t, options).results[0]));
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  return {
    command: `mnist-sym-wasm bench ${process.argv.slice(3).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: { cpu, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    engine,
    coreVersion: CORE_VERSION,
    results,
    protocol,
    pytorch: torch
      ? `${torch.version} (${torch.python})`
      : subjects.includes('pytorch')
        ? 'not installed (no python3 here imports torch; Debian: apt-get install python3-torch)'
        : 'not requested',
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** The report as a table: medians, ratios to the engine, eval throughput. */
export function formatBench(report: BenchReport): string {
  const engine = report.results.find((r) => r.subject === 'engine' && r.threads === 1) ?? report.results[0];
  const rows = report.results.map((r) => {
    const ratio = engine ? (r.medianStepMs / engine.medianStepMs).toFixed(2) : 'n/a';
    const evalCol = r.evalImagesPerSecond === null ? '' : r.evalImagesPerSecond.toFixed(0);
    const directCol = r.evalDirectImagesPerSecond === null ? '' : r.evalDirectImagesPerSecond.toFixed(0);
    const heap = r.wasmHeapBytes === null ? '' : (r.wasmHeapBytes / 2 ** 20).toFixed(0);
    return `| ${r.subject} | ${r.backend} | ${r.threads} | ${r.stepMs.length} | ${r.medianStepMs.toFixed(1)} | ${ratio} | ${evalCol} | ${directCol} | ${r.tensorsGrowth ?? ''} | ${heap} |`;
  });
  return [
    `machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, node ${report.machine.node}`,
    `engine: tfjs ${report.engine.tfjsVersion}, SIMD ${report.engine.simd ? 'on' : 'off'}, ${report.engine.threads} thread(s); PyTorch: ${report.pytorch}`,
    '',
    '| subject | backend | threads | steps timed | median ms/step | x engine, 1 thread | eval images/s | eval images/s, direct conv2 | tensor growth | wasm heap MiB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...formatShuffledCost(report),
    `peak RSS of this process: ${report.peakRssMiB} MiB`,
    '',
    ...formatProtocol(report.protocol),
    ...report.results.filter((r) => r.profile).flatMap((r) => formatProfile(r)),
  ].join('\n');
}

/** The shuffled summation orders' cost: each engine-shuffled-* step against the engine's at the same thread count. */
function formatShuffledCost(report: BenchReport): string[] {
  const lines = report.results.flatMap((r) => {
    if (!r.subject.startsWith('engine-shuffled-')) return [];
    const fixed = report.results.find((e) => e.subject === 'engine' && e.threads === r.threads);
    if (!fixed) return [];
    const ratio = (r.medianStepMs / fixed.medianStepMs).toFixed(2);
    return [`${r.subject}: ${ratio} x the fixed-order step (engine), ${r.threads} thread(s)`];
  });
  return lines.length ? [...lines, ''] : [];
}

/** The protocol subjects: measured rates and the whole protocol projected from them. */
function formatProtocol(rows: ProtocolTiming[]): string[] {
  if (rows.length === 0) return [];
  const base = rows.find((r) => r.subject === 'protocol-plain' && r.threads === rows[0].threads);
  return [
    "the question's protocol (seed config), shortened; projected to 20000 steps and 201 evaluations:",
    '',
    '| subject | threads | steps | evaluations | ms/step | s/evaluation | projected minutes | x protocol-plain | weights hash | evaluations symmetric |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const same = rows.find((p) => p.subject === 'protocol-plain' && p.threads === r.threads) ?? base;
      const ratio = same ? (r.projectedMinutes / same.projectedMinutes).toFixed(2) : '';
      return `| ${r.subject} | ${r.threads} | ${r.steps} | ${r.evaluations} | ${r.msPerStep.toFixed(1)} | ${(r.msPerEvaluation / 1000).toFixed(1)} | ${r.projectedMinutes.toFixed(1)} | ${ratio} | ${r.weightsSha256.slice(0, 12)} | ${r.evalPaths?.symmetric ?? ''}/${r.evaluations} |`;
    }),
    '',
  ];
}

/** One subject's step profile: the kernels that take 1% or more, and the rest summed. */
function formatProfile(r: BenchRow): string[] {
  const total = r.profile!.reduce((a, p) => a + p.ms, 0);
  const shown = r.profile!.filter((p) => p.ms >= total / 100 || p.name === '(outside kernels)');
  const rest = total - shown.reduce((a, p) => a + p.ms, 0);
  return [
    `profile of one step: ${r.subject}, ${r.threads} thread(s), ${total.toFixed(1)} ms`,
    '',
    '| kernel | ms | share |',
    '|---|---|---|',
    ...shown.map((p) => `| ${p.name} | ${p.ms.toFixed(1)} | ${((100 * p.ms) / total).toFixed(0)}% |`),
    ...(rest > 0 ? [`| (other kernels) | ${rest.toFixed(1)} | ${((100 * rest) / total).toFixed(0)}% |`] : []),
    '',
  ];
}

/** The commander definition of `bench`. */
export function benchCommand(): Command {
  return new Command('bench')
    .description('time the training step (seed model, batch 50) and evaluation against the baselines on this machine')
    .addOption(
      new Option('--threads <list>', 'engine thread counts to time, e.g. 1,2 (default: 1 and all cores)').default(
        `1,${availableParallelism()}`,
      ),
    )
    .addOption(new Option('--samples <n>', 'timed training steps per wasm subject').default('15'))
    .addOption(new Option('--warmup <n>', 'untimed steps first').default('3'))
    .addOption(new Option('--eval-images <n>', 'train images for the evaluation throughput (0 = skip)').default('5000'))
    .addOption(new Option('--cpu-steps <n>', 'steps on the tfjs cpu backend (~25 s each; 0 = skip)').default('2'))
    .addOption(
      new Option(
        '--protocol-steps <n>',
        "steps of the protocol subjects (the question's protocol shortened: evaluations every 100)",
      ).default('100'),
    )
    .addOption(
      new Option(
        '--subjects <list>',
        `any of ${SUBJECTS.join(',')} (engine-shuffled-*: the engine's step with --reduce-order shuffled and that --reduce-shuffle, at the first thread count; pytorch: when a python3 here imports torch)`,
      ).default(DEFAULT_SUBJECTS.join(',')),
    )
    .option('--out <file>', 'also write the JSON report to this file')
    .option('--json', 'print the JSON report instead of the table')
    .option('--profile', 'also time one more step kernel by kernel (tf.profile) and print where it went')
    .action(async (opts: BenchOptions) => {
      if (opts.out) checkReportPath(opts.out); // before minutes of benchmarking, not after
      const report = await bench(opts);
      if (opts.out) {
        try {
          writeFileSync(opts.out, `${toJson(report, 2)}\n`);
        } catch (e) {
          throw new UserInputError(`cannot write --out '${opts.out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      process.stdout.write(opts.json ? `${toJson(report, 2)}\n` : formatBench(report));
    });
}

/** Refuses a --out file that cannot be written: a folder, or a file in a missing or read-only folder. */
function checkReportPath(path: string): void {
  const full = resolve(path);
  if (existsSync(full) && statSync(full).isDirectory())
    throw new UserInputError(`invalid --out: '${path}' is a folder (expected a file path)`);
  const dir = dirname(full);
  if (!existsSync(dir)) throw new UserInputError(`invalid --out: folder '${dirname(path)}' does not exist`);
  try {
    accessSync(existsSync(full) ? full : dir, constants.W_OK);
  } catch {
    throw new UserInputError(`invalid --out: '${path}' is not writable`);
  }
}
