// SHA-256 of the final parameters: the fingerprint that says two runs are bitwise the same.
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

/** Hex SHA-256 over the float32 little-endian bytes of the arrays, in the given order. */
export function hashFloat32Arrays(arrays: Float32Array[]): string {
  if (!LITTLE_ENDIAN) throw new Error('weights hash: big-endian platforms are not supported');
  const h = sha256.create();
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return bytesToHex(h.digest());
}
