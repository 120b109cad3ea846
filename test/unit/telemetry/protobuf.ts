// A minimal protobuf reader for the remote_write WriteRequest, written independently of the encoder
// so the tests do not check the encoder against itself.

export interface DecodedSeries {
  labels: [string, string][];
  samples: { value: number; timestampMs: number }[];
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done() {
    return this.offset >= this.bytes.length;
  }
  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
  }
  tag(): { field: number; wireType: number } {
    const tag = this.varint();
    return { field: Math.floor(tag / 8), wireType: tag % 8 };
  }
  lengthDelimited(): Uint8Array {
    const length = this.varint();
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    if (slice.length !== length) throw new Error('truncated message');
    this.offset += length;
    return slice;
  }
  double(): number {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 8);
    this.offset += 8;
    return view.getFloat64(0, true);
  }
}

const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

function expectWireType(actual: number, expected: number, where: string) {
  if (actual !== expected) throw new Error(`${where}: wire type ${actual}, expected ${expected}`);
}

export function decodeWriteRequest(bytes: Uint8Array): DecodedSeries[] {
  const series: DecodedSeries[] = [];
  const request = new Reader(bytes);
  while (!request.done) {
    const { field, wireType } = request.tag();
    if (field !== 1) throw new Error(`WriteRequest: unexpected field ${field}`);
    expectWireType(wireType, 2, 'WriteRequest.timeseries');
    const ts = new Reader(request.lengthDelimited());
    const decoded: DecodedSeries = { labels: [], samples: [] };
    while (!ts.done) {
      const t = ts.tag();
      expectWireType(t.wireType, 2, `TimeSeries field ${t.field}`);
      const inner = new Reader(ts.lengthDelimited());
      if (t.field === 1) {
        let name = '';
        let value = '';
        while (!inner.done) {
          const l = inner.tag();
          expectWireType(l.wireType, 2, `Label field ${l.field}`);
          if (l.field === 1) name = utf8(inner.lengthDelimited());
          else if (l.field === 2) value = utf8(inner.lengthDelimited());
          else throw new Error(`Label: unexpected field ${l.field}`);
        }
        decoded.labels.push([name, value]);
      } else if (t.field === 2) {
        let value = 0;
        let timestampMs = 0;
        while (!inner.done) {
          const s = inner.tag();
          if (s.field === 1) {
            expectWireType(s.wireType, 1, 'Sample.value');
            value = inner.double();
          } else if (s.field === 2) {
            expectWireType(s.wireType, 0, 'Sample.timestamp');
            timestampMs = inner.varint();
          } else throw new Error(`Sample: unexpected field ${s.field}`);
        }
        decoded.samples.push({ value, timestampMs });
      } else throw new Error(`TimeSeries: unexpected field ${t.field}`);
    }
    series.push(decoded);
  }
  return series;
}
