// CRC32C against published check values, and the TFRecord framing layout (an independent reader
// of whole event files lives in test/checkpoint-resume.test.ts).
import { describe, expect, it } from 'vitest';
import { crc32c, encodeTfRecord, maskedCrc32c, scalarEvent, tfEventsFileName } from './tfevents';

describe('tfevents', () => {
  it('computes CRC-32C check values (RFC 3720 B.4)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const c = crc32c(new Uint8Array(0));
    expect(c).toBe(0);
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
  });

  it('frames a record as length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = Uint8Array.from([1, 2, 3]);
    const r = encodeTfRecord(data);
    const v = new DataView(r.buffer);
    expect(r.length).toBe(19);
    expect(v.getBigUint64(0, true)).toBe(3n);
    expect(v.getUint32(8, true)).toBe(maskedCrc32c(r.subarray(0, 8)));
    expect(Array.from(r.subarray(12, 15))).toEqual([1, 2, 3]);
    expect(v.getUint32(15, true)).toBe(maskedCrc32c(data));
  });

  it('encodes a scalar event and names files as TensorBoard expects', () => {
    const r = scalarEvent(1.5, 300, [{ tag: 'loss', value: 2 }]);
    // Event: 09 <double 1.5> 10 ac 02 (300) 2a <len> [Summary: 0a <len> [Value: 0a 04 "loss" 15 <float 2>]]
    const payload = Array.from(r.subarray(12, r.length - 4));
    expect(payload.slice(0, 9)).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    expect(payload.slice(9, 12)).toEqual([0x10, 0xac, 0x02]);
    expect(payload.slice(12)).toEqual([0x2a, 13, 0x0a, 11, 0x0a, 4, 108, 111, 115, 115, 0x15, 0, 0, 0, 0x40]);
    expect(tfEventsFileName(1700000000.7, 'host')).toBe('events.out.tfevents.1700000000.host');
  });
});
