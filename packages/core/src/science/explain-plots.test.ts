// The report's SVG charts: axis labels, a legend in its own column (never over the data), gaps for
// non-finite values and for values a log axis cannot show, and decade ticks on a log axis.
import { describe, expect, it } from 'vitest';
import { escapeHtml, svgLineChart } from './explain-plots';

const numbers = (svg: string, attr: string, tag: string) =>
  [...svg.matchAll(new RegExp(`<${tag} [^>]*?${attr}="([-\\d.]+)"`, 'g'))].map((m) => Number(m[1]));

describe('svgLineChart', () => {
  const series = [
    {
      name: 'run-a',
      color: 0,
      points: [
        [0, 1],
        [5, 10],
        [10, NaN],
        [15, 1000],
      ] as [number, number][],
    },
    {
      name: 'run-b <x>',
      color: 1,
      points: [
        [0, 0],
        [5, 2],
        [10, 3],
      ] as [number, number][],
    },
  ];

  it('labels both axes, escapes names and keeps the legend right of the plot area', () => {
    const svg = svgLineChart('copies', { x: 'training step', y: 'groups', logY: true }, series);
    expect(svg).toContain('>training step</text>');
    expect(svg).toContain('>groups (log scale)</text>');
    expect(svg).toContain(`>${escapeHtml('run-b <x>')}</text>`);
    const [, rx, rw] = /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
    const plotRight = Number(rx) + Number(rw);
    // Every data point is inside the plot area, every legend entry beyond its right edge.
    for (const cx of numbers(svg, 'cx', 'circle')) expect(cx).toBeLessThanOrEqual(plotRight);
    const legendX = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+">run-/g)].map((m) => Number(m[1]));
    expect(legendX).toHaveLength(2);
    for (const x of legendX) expect(x).toBeGreaterThan(plotRight);
  });

  it('on a log axis: decade ticks, and 0 and NaN left out as gaps', () => {
    const svg = svgLineChart('copies', { x: 'step', y: 'groups', logY: true }, series);
    for (const tick of ['>1<', '>10<', '>100<', '>1000<']) expect(svg).toContain(tick);
    // run-a: 3 finite points (NaN dropped); run-b: 2 (0 cannot be on a log axis).
    expect((svg.match(/<circle /g) ?? []).length).toBe(5);
    // The NaN breaks run-a's line into two pieces (a new M after the gap).
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths[0].match(/M/g)).toHaveLength(2);
  });

  it('a linear axis keeps zero', () => {
    const svg = svgLineChart('accuracy', { x: 'step', y: 'test accuracy (%)' }, series);
    expect((svg.match(/<circle /g) ?? []).length).toBe(6);
    expect(svg).not.toContain('log scale');
  });
});
