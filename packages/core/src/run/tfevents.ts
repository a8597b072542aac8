// TensorBoard event files as bytes: TFRecord framing (length, masked CRC32C, payload, masked
// CRC32C) around hand-encoded `Event` protobufs holding scalar `Summary` values. Enough of
// tensorflow/core/util/event.proto and summary.proto for `tensorboard --logdir` to plot scalars.

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord uses it. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay useful. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: u64 length, masked CRC of the length bytes, the data, masked CRC of the data. */
export function encodeTfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length, true); // high word stays 0: records are far below 4 GiB
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Minimal protobuf writer: just the wire types Event and Summary need. */
class ProtoWriter {
  private readonly parts: number[] = [];

  private varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.parts.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.parts.push(v);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, value: number): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.parts.push(...b);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.parts.push(...value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** One scalar of a Summary. */
export interface TfScalar {
  tag: string;
  value: number;
}

/** The first record of every event file: Event{wall_time, file_version: "brain.Event:2"}. */
export function versionEvent(wallTimeSeconds: number): Uint8Array {
  return encodeTfRecord(new ProtoWriter().double(1, wallTimeSeconds).string(3, 'brain.Event:2').finish());
}

/**
 * A framed Event{wall_time, step, summary: Summary{value: [{tag, simple_value}, ...]}}; steps are
 * non-negative, values are stored as float32 (NaN kept).
 */
export function scalarEvent(wallTimeSeconds: number, step: number, scalars: TfScalar[]): Uint8Array {
  const summary = new ProtoWriter();
  for (const s of scalars) summary.bytes(1, new ProtoWriter().string(1, s.tag).float(2, s.value).finish());
  const event = new ProtoWriter().double(1, wallTimeSeconds).uint(2, step).bytes(5, summary.finish());
  return encodeTfRecord(event.finish());
}

/** TensorBoard's file name: `events.out.tfevents.<unix seconds>.<host>`. */
export function tfEventsFileName(unixSeconds: number, host: string): string {
  return `events.out.tfevents.${Math.floor(unixSeconds)}.${host}`;
}
