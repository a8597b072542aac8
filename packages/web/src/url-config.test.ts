// The page's URL parameters and generated form fields, through core's real resolver.
import { describe, expect, test } from 'vitest';
import { CONFIG_KEYS, DEFAULT_CONFIG, resolveConfig } from '@mnist-sym-wasm/core';
import { configToSearch, DEFAULT_DATA_URL, fieldChoices, readPageParams } from './url-config';

describe('page URL parameters', () => {
  test('config keys go through core, page keys are separated', () => {
    const p = readPageParams('?init=constant&steps=300&evalEvery=100&evalTrain=1000&seed=0&autorun=1');
    expect(p.error).toBeNull();
    expect(p.autorun).toBe(true);
    expect(p.dataUrl).toBe(DEFAULT_DATA_URL);
    expect(p.config).toEqual(resolveConfig({ steps: '300', evalEvery: '100', evalTrain: '1000' }));
    expect(readPageParams('?data=files').dataUrl).toBe('files/');
    expect(readPageParams('?data=files').dataParam).toBe('files');
    expect(readPageParams('').dataParam).toBeNull();
  });

  test('a data parameter that cannot be a folder URL is refused, naming the parameter', () => {
    expect(readPageParams('?data=http://[bad/').error).toBe(
      "URL parameter: invalid data: 'http://[bad/' is not a URL (expected the folder of the four MNIST files, e.g. data=mnist/)",
    );
    expect(readPageParams('?data=javascript:alert(1)').error).toMatch(
      /^URL parameter: invalid data: 'javascript:alert\(1\)' is a javascript: URL/,
    );
    expect(readPageParams('?data=https://example.org/mnist/').error).toBeNull();
    expect(readPageParams('?data=../other/').error).toBeNull();
  });

  test('invalid values and unknown keys become one-line errors, with the defaults kept', () => {
    const bad = readPageParams('?steps=-1');
    expect(bad.error).toBe("URL parameter: invalid steps: '-1' (expected an integer >= 0)");
    expect(bad.config).toEqual(resolveConfig());
    expect(bad.raw.steps).toBe('-1');
    expect(readPageParams('?bogus=1').error).toMatch(/^URL parameter: unknown config key 'bogus'/);
  });

  test('writing back lists only non-default fields and round-trips', () => {
    expect(configToSearch(resolveConfig())).toBe('');
    const config = resolveConfig({ widths: '4,4,8', steps: '3', lr: '0.001' });
    const search = configToSearch(config, { data: 'x/' });
    expect(search).toBe('?widths=4,4,8&lr=0.001&steps=3&data=x%2F');
    expect(readPageParams(search).config).toEqual(config);
  });

  test('every config field becomes a form field; word choices become selects', () => {
    expect(fieldChoices('init')).toEqual(['constant', 'truncated-normal']);
    expect(fieldChoices('evalTrain')).toBeNull();
    expect(fieldChoices('threads')).toBeNull();
    expect(fieldChoices('widths')).toBeNull();
    for (const key of CONFIG_KEYS) {
      const choices = fieldChoices(key);
      if (choices) expect(choices).toContain(String(DEFAULT_CONFIG[key]));
    }
  });
});
