// fc1 activity as text: a dead unit is said plainly on the evaluation line and in the summary.
import { describe, expect, it } from 'vitest';
import { formatActivityInline, formatDeadChannels, formatDeadUnits } from './unit-activity';

describe('formatActivityInline', () => {
  it('gives one group its active share, or says it is dead', () => {
    expect(formatActivityInline({ images: 100, groups: [{ units: [[0, 1023]], active: 0.4567 }] })).toBe('fc1 active 45.67%');
    expect(formatActivityInline({ images: 100, groups: [{ units: [[0, 0]], active: 0 }] })).toBe('fc1 DEAD (active on no image)');
  });

  it('counts the dead units of split groups and gives the live ones range', () => {
    const groups = [
      { units: [[0, 1]] as [number, number][], active: 0 },
      { units: [[2, 2]] as [number, number][], active: 0.25 },
      { units: [[3, 3]] as [number, number][], active: 0.5 },
    ];
    expect(formatActivityInline({ images: 100, groups })).toBe('fc1 2/4 units DEAD (active on no image), active 25.00%..50.00%');
    expect(formatActivityInline({ images: 100, groups: groups.slice(1) })).toBe('fc1 active 25.00%..50.00%');
  });
});

describe('formatDeadUnits', () => {
  it('says none, or how many died from which step', () => {
    expect(formatDeadUnits(undefined)).toBe('n/a (not recorded)');
    expect(formatDeadUnits({ units: 1, dead: 0, died: [] })).toBe('none of 1');
    expect(
      formatDeadUnits({
        units: 1024,
        dead: 3,
        died: [
          { step: 100, units: [[0, 1]] },
          { step: 300, units: [[7, 7]] },
        ],
      }),
    ).toBe('3 of 1024 DEAD (active on no evaluated image): 2 from step 100, 1 from step 300');
  });
});

describe('formatDeadChannels', () => {
  it('names the conv channels active on no image, and nothing when every channel was active', () => {
    const live = { images: 10, groups: [{ units: [[0, 31]] as [number, number][], active: 0.5 }] };
    expect(formatDeadChannels({ conv1: live, conv2: live })).toBe('');
    expect(formatDeadChannels({})).toBe('');
    const conv2 = {
      images: 10,
      groups: [
        { units: [[0, 1]] as [number, number][], active: 0 },
        { units: [[2, 60]] as [number, number][], active: 0.2 },
        { units: [[61, 63]] as [number, number][], active: 0 },
      ],
    };
    expect(formatDeadChannels({ conv1: live, conv2 })).toBe('conv2 5/64 channels DEAD');
    expect(formatDeadChannels({ conv1: { images: 10, groups: [{ units: [[0, 31]], active: 0 }] }, conv2 })).toBe(
      'conv1 32/32 channels DEAD, conv2 5/64 channels DEAD',
    );
  });
});
