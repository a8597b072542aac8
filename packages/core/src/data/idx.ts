// IDX (the MNIST file format) parsing and encoding, raw or gzip-compressed, strictly validated.
import { gunzipSync } from 'fflate';
import { DataError } from '../errors';

/** A parsed IDX file. Only unsigned-byte data exists in MNIST, so only that is supported. */
export interface IdxArray {
  dtype: 'uint8';
  /** Dimension sizes, outermost first (e.g. [60000, 28, 28]). */
  dims: number[];
  /** Row-major data, exactly the product of `dims` bytes; may be a view into the input bytes. */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
const hex8 = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE) of `bytes`; fflate's gunzip does not check the trailer, so we do. */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function gunzipChecked(bytes: Uint8Array, name: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = gunzipSync(bytes);
  } catch (e) {
    throw new DataError(`${name}: corrupt gzip data (${e instanceof Error ? e.message : String(e)})`);
  }
  // Without these checks a damaged stream can decode to plausible but wrong pixels.
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expectedCrc = view.getUint32(n - 8, true);
  const expectedSize = view.getUint32(n - 4, true);
  if (out.length !== expectedSize) {
    throw new DataError(`${name}: corrupt gzip data (expected ${expectedSize} bytes uncompressed, got ${out.length})`);
  }
  const actualCrc = crc32(out);
  if (actualCrc !== expectedCrc) {
    throw new DataError(`${name}: corrupt gzip data (CRC-32 ${hex32(actualCrc)}, expected ${hex32(expectedCrc)})`);
  }
  return out;
}

/**
 * Parses an IDX file of unsigned bytes. `bytes` may be gzip-compressed (detected by the 1f 8b
 * signature). `name` starts every error message (use the file name). With `expectedDims`, a
 * file with another number of dimensions is rejected too (e.g. a labels file given as images).
 * Throws {@link DataError} on any malformed input; the returned data is exact, never padded.
 */
export function parseIdx(bytes: Uint8Array, name: string, expectedDims?: number): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipChecked(bytes, name);
  if (bytes.length < 4) {
    throw new DataError(`${name}: file too short: expected at least 4 header bytes, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const expectedMagic = expectedDims === undefined ? '0x00000801 to 0x00000804' : hex32(0x800 + expectedDims);
  const type = bytes[2];
  // A type byte IDX does not define means this is not an IDX file at all.
  if (bytes[0] !== 0 || bytes[1] !== 0 || TYPE_NAMES[type] === undefined) {
    throw new DataError(`${name}: bad magic number ${hex32(magic)} (expected ${expectedMagic})`);
  }
  if (type !== 0x08) {
    throw new DataError(`${name}: unsupported data type ${hex8(type)} (${TYPE_NAMES[type]}); expected 0x08 (unsigned byte)`);
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) {
    throw new DataError(`${name}: bad number of dimensions ${ndims} in magic ${hex32(magic)} (expected 1 to 4)`);
  }
  if (expectedDims !== undefined && ndims !== expectedDims) {
    throw new DataError(
      `${name}: bad magic number ${hex32(magic)} (expected ${expectedMagic}: ${expectedDims} dimensions, found ${ndims})`,
    );
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new DataError(`${name}: truncated header: expected ${headerLength} bytes, found ${bytes.length}`);
  }
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) throw new DataError(`${name}: dimension ${i} is 0 (expected at least 1)`);
    dims.push(d);
    size *= d;
  }
  const found = bytes.length - headerLength;
  if (found < size) {
    throw new DataError(`${name}: truncated: expected ${size} bytes of data, found ${found}`);
  }
  if (found > size) {
    throw new DataError(`${name}: ${found - size} unexpected trailing bytes: expected ${size} bytes of data, found ${found}`);
  }
  return { dtype: 'uint8', dims, data: bytes.subarray(headerLength) };
}

/** Encodes an uncompressed unsigned-byte IDX file (the inverse of {@link parseIdx}). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (dims.length < 1 || dims.length > 4) {
    throw new RangeError(`encodeIdx: expected 1 to 4 dimensions, got ${dims.length}`);
  }
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1 || d > 0xffffffff) {
      throw new RangeError(`encodeIdx: dimensions must be integers 1..4294967295, got [${dims.join(', ')}]`);
    }
    size *= d;
  }
  if (size !== data.length) {
    throw new RangeError(`encodeIdx: dims [${dims.join(', ')}] need ${size} bytes, data has ${data.length}`);
  }
  const headerLength = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLength + size);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, headerLength);
  return out;
}
