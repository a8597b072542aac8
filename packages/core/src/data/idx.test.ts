// IDX parsing: round trips, gzip handling, and one DataError per kind of malformed file.
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { DataError } from '../errors';
import { encodeIdx, parseIdx } from './idx';

const NAME = 'train-images-idx3-ubyte';
const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) & 0xff);
const file = encodeIdx([2, 3, 4], data);

function expectDataError(f: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DataError);
  const text = (caught as Error).message;
  expect(text.startsWith(`${NAME}: `), text).toBe(true);
  expect(text).not.toContain('\n');
  expect(text).toMatch(message);
}

describe('parseIdx', () => {
  test('encodeIdx writes the big-endian header and parseIdx reads it back', () => {
    expect(Array.from(file.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    const parsed = parseIdx(file, NAME);
    expect(parsed).toEqual({ dtype: 'uint8', dims: [2, 3, 4], data });
    // Raw input is not copied.
    expect(parsed.data.buffer).toBe(file.buffer);
    expect(parseIdx(encodeIdx([5], data.subarray(0, 5)), NAME, 1).dims).toEqual([5]);
    expect(parseIdx(encodeIdx([1, 2, 3, 4], data), NAME).dims).toEqual([1, 2, 3, 4]);
  });

  test('gzip-compressed input is detected and decompressed', () => {
    const parsed = parseIdx(gzipSync(file), NAME, 3);
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  test('works on a view with a non-zero byteOffset', () => {
    const padded = new Uint8Array(file.length + 7);
    padded.set(file, 3);
    expect(parseIdx(padded.subarray(3, 3 + file.length), NAME).dims).toEqual([2, 3, 4]);
  });

  test('bad magic number', () => {
    const bad = file.slice();
    bad[0] = 0x12;
    expectDataError(() => parseIdx(bad, NAME), 'bad magic number 0x12000803 (expected 0x00000801 to 0x00000804)');
    expectDataError(() => parseIdx(new Uint8Array(16), NAME, 3), 'bad magic number 0x00000000 (expected 0x00000803)');
  });

  test('wrong number of dimensions', () => {
    const bad = file.slice();
    bad[3] = 0;
    expectDataError(() => parseIdx(bad, NAME), 'bad number of dimensions 0');
    bad[3] = 5;
    expectDataError(() => parseIdx(bad, NAME), 'bad number of dimensions 5');
    expectDataError(
      () => parseIdx(encodeIdx([24], data), NAME, 3),
      'bad magic number 0x00000801 (expected 0x00000803: 3 dimensions, found 1)',
    );
  });

  test('unsupported type byte is named', () => {
    const bad = file.slice();
    bad[2] = 0x0d;
    expectDataError(() => parseIdx(bad, NAME), 'unsupported data type 0x0d (float32); expected 0x08 (unsigned byte)');
    bad[2] = 0x0b;
    expectDataError(() => parseIdx(bad, NAME), 'unsupported data type 0x0b (int16)');
    // A type byte IDX does not define means this is not an IDX file at all.
    bad[2] = 0x42;
    expectDataError(() => parseIdx(bad, NAME), 'bad magic number 0x00004203 (expected 0x00000801 to 0x00000804)');
  });

  test('too short for a header, truncated header, zero dimension', () => {
    expectDataError(() => parseIdx(new Uint8Array([0, 0, 8]), NAME), 'file too short: expected at least 4 header bytes, found 3');
    expectDataError(() => parseIdx(file.subarray(0, 10), NAME), 'truncated header: expected 16 bytes, found 10');
    const bad = file.slice();
    bad[11] = 0;
    expectDataError(() => parseIdx(bad, NAME), 'dimension 1 is 0 (expected at least 1)');
  });

  test('truncated and overlong data', () => {
    expectDataError(() => parseIdx(file.subarray(0, file.length - 1), NAME), 'truncated: expected 24 bytes of data, found 23');
    const long = new Uint8Array(file.length + 2);
    long.set(file);
    expectDataError(() => parseIdx(long, NAME), '2 unexpected trailing bytes: expected 24 bytes of data, found 26');
    // The same checks apply after decompression.
    expectDataError(() => parseIdx(gzipSync(file.subarray(0, file.length - 1)), NAME), 'truncated: expected 24 bytes');
  });

  test('corrupt gzip: bad deflate stream, truncated stream, CRC and size mismatches', () => {
    const gz = new Uint8Array(gzipSync(file)); // a copy: Buffer#slice would alias
    const garbage = gz.slice();
    garbage.fill(0xff, 10, gz.length - 8);
    expectDataError(() => parseIdx(garbage, NAME), /^train-images-idx3-ubyte: corrupt gzip data \(/);
    expectDataError(() => parseIdx(gz.subarray(0, 12), NAME), 'corrupt gzip data');
    const badCrc = gz.slice();
    badCrc[gz.length - 8] ^= 1;
    expectDataError(() => parseIdx(badCrc, NAME), /corrupt gzip data \(CRC-32 0x[0-9a-f]{8}, expected 0x[0-9a-f]{8}\)/);
    const badSize = gz.slice();
    badSize[gz.length - 4] += 1;
    expectDataError(() => parseIdx(badSize, NAME), 'corrupt gzip data');
  });

  test('encodeIdx rejects inconsistent input', () => {
    expect(() => encodeIdx([2, 3], data)).toThrow(RangeError);
    expect(() => encodeIdx([], data)).toThrow(RangeError);
    expect(() => encodeIdx([24, 1, 1, 1, 1], data)).toThrow(RangeError);
    expect(() => encodeIdx([0], new Uint8Array(0))).toThrow(RangeError);
  });
});
