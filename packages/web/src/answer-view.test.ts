// The Answer view's pure parts: its URL parameters (the suite's options, errors, rerun links that
// reopen a run with the same config) and its HTML (findings, plots, one rerun link per run).
import { describe, expect, test } from 'vitest';
import { explainReport, explainSuite, resolveConfig, SYMMETRY_KEYS, type EvalRecord, type RunSummary } from '@mnist-sym-wasm/core';
import { isAnswerView, mainPageSearch, readAnswerParams, rerunHref } from './answer-params';
import { answerHtml } from './answer-render';
import { readPageParams } from './url-config';

describe('Answer view URL parameters', () => {
  test('view=answer selects it; suite sizes and config keys become explainSuite options', () => {
    expect(isAnswerView('?view=answer')).toBe(true);
    expect(isAnswerView('?steps=3')).toBe(false);
    const p = readAnswerParams(
      '?view=answer&testImages=100&perturbs=1e-3,1e-30&orderSeeds=1&steps=6&widths=4,8,16&data=mnist-small&autorun=1',
    );
    expect(p.error).toBeNull();
    expect(p.autorun).toBe(true);
    expect(p.dataParam).toBe('mnist-small');
    expect(p.options).toEqual({ overrides: { steps: '6', widths: '4,8,16' }, testImages: 100, perturbs: [1e-3, 1e-30], orderSeeds: [1] });
    expect(readAnswerParams('?view=answer&full=1').options.full).toBe(true);
  });

  test("the main page's views read the query without the Answer view's parameters and autorun", () => {
    expect(mainPageSearch('?view=answer&testImages=100&perturbs=1e-3&steps=6&data=d&autorun=1')).toBe('?steps=6&data=d');
    expect(readPageParams(mainPageSearch('?view=answer&full=1&orderSeeds=1')).error).toBeNull();
  });

  test('bad values are errors, not exceptions', () => {
    expect(readAnswerParams('?view=answer&testImages=0').error).toBe("URL parameter: invalid testImages: '0' (expected an integer >= 1)");
    expect(readAnswerParams('?view=answer&perturbs=x').error).toMatch(/^URL parameter: invalid perturbs: 'x'/);
    expect(readAnswerParams('?view=answer&steps=abc').error).toMatch(/^URL parameter: invalid steps/);
    expect(readAnswerParams('?view=answer&nope=1').error).toMatch(/unknown config key 'nope'/);
  });

  test("a run's rerun link gives the main page that run's config", () => {
    const [entry] = explainSuite({}).entries.filter((e) => e.id === 'dense-ties-random');
    const href = rerunHref(entry.config, 'mnist/');
    const back = readPageParams(href.replace(/^\.\//, ''));
    expect(back.error).toBeNull();
    expect(back.autorun).toBe(true);
    expect(back.dataParam).toBe('mnist/');
    expect(back.config).toEqual(entry.config);
  });
});

describe('Answer view HTML', () => {
  test('shows every finding with its verdict, the plots, and one rerun link per run', () => {
    const plan = explainSuite({ overrides: { steps: '6', evalEvery: '3', widths: '4,8,16' } });
    const symmetry = Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, { copies: 4, groups: 1, groupsTol: 1, maxRelDiff: 0 }]));
    const rec = (step: number): EvalRecord =>
      ({
        step,
        train: null,
        test: 0.1,
        trainLoss: null,
        testLoss: 1,
        batchLoss: null,
        trainImages: 0,
        elapsedMs: 0,
        symmetry,
      }) as EvalRecord;
    const results = plan.entries.map((entry) => ({
      entry,
      records: [rec(0), rec(3), rec(6)],
      summary: {
        steps: 6,
        final: { step: 6, train: null, test: 0.1, loss: 1 },
        firstNanStep: null,
        msPerStep: 1,
        weightsSha256: 'x',
        symmetry,
        config: resolveConfig(entry.config as unknown as Record<string, unknown>),
      } as unknown as RunSummary,
    }));
    const report = explainReport(plan, results, 100, { generated: 'now', wallMs: 1 });
    const html = answerHtml(report, null);
    expect((html.match(/data-testid="answer-finding"/g) ?? []).length).toBe(report.findings.length);
    expect((html.match(/data-testid="answer-rerun"/g) ?? []).length).toBe(plan.entries.length);
    expect(html).toContain('<svg ');
    expect(html).not.toMatch(/<script/);
    // Nothing is shown at 6 steps: the plateau finding says it is too short.
    expect(html).toMatch(/data-id="plateau" data-shown="false"><strong>not shown<\/strong>: [^<]*too short/);
  });
});
