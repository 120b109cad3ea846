// An OTLP/HTTP trace receiver on loopback for the tracing tests. Neither an OpenTelemetry Collector nor
// Tempo can be installed here (no Debian package, no npm binary), so the tests receive what the SDK sends
// themselves: each POST /v1/traces body is decoded as the protobuf ExportTraceServiceRequest it is, with
// protobufjs and the message definitions of opentelemetry-proto (the fields the tests read).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
  fixed32 flags = 16;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const ExportTraceServiceRequest = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: true }).root.lookupType('otlp.ExportTraceServiceRequest');

export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: string;
}

interface DecodedAnyValue { string_value?: string; bool_value?: boolean; int_value?: string; double_value?: number; array_value?: { values?: DecodedAnyValue[] }; kvlist_value?: { values?: DecodedKeyValue[] }; bytes_value?: string }
interface DecodedKeyValue { key: string; value?: DecodedAnyValue }

function valueOf(value: DecodedAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.string_value !== undefined) return value.string_value;
  if (value.bool_value !== undefined) return value.bool_value;
  if (value.int_value !== undefined) return Number(value.int_value);
  if (value.double_value !== undefined) return value.double_value;
  if (value.array_value) return (value.array_value.values ?? []).map(valueOf);
  if (value.kvlist_value) return attributesOf(value.kvlist_value.values);
  if (value.bytes_value !== undefined) return value.bytes_value;
  return null;
}

function attributesOf(list: DecodedKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** Decodes one OTLP/protobuf trace export into flat spans (ids as lowercase hex, as in traceparent). */
export function decodeTraceExport(body: Uint8Array): ReceivedSpan[] {
  const message = ExportTraceServiceRequest.decode(body);
  const request = ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, defaults: true, oneofs: false }) as {
    resource_spans: { resource?: { attributes?: DecodedKeyValue[] }; scope_spans: { scope?: { name: string }; spans: any[] }[] }[];
  };
  const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resource_spans) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scope_spans) {
      for (const span of scopeSpans.spans) {
        spans.push({
          traceId: hex(span.trace_id),
          spanId: hex(span.span_id),
          parentSpanId: hex(span.parent_span_id),
          name: span.name,
          kind: span.kind,
          startNs: BigInt(span.start_time_unix_nano),
          endNs: BigInt(span.end_time_unix_nano),
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((event: { name: string; attributes?: DecodedKeyValue[] }) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          resource,
          scope: scopeSpans.scope?.name ?? '',
        });
      }
    }
  }
  return spans;
}

export interface OtlpReceiver {
  /** The OTLP base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Raw request headers of every export (the Authorization header sent with OTEL_EXPORTER_OTLP_HEADERS). */
  exports: { headers: http.IncomingHttpHeaders; contentType: string; spanCount: number }[];
  /** Export bodies that were not valid OTLP protobuf: a test asserts there are none. */
  undecodable: string[];
  /** `mode: 'hang'`: ids of the exports held open right now (numbered from 1 in arrival order; one leaves when its sender gives up). */
  held(): number[];
  waitForSpans(what: string, accept: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

/**
 * `mode: 'answer'` answers each export 200 (an empty ExportTraceServiceResponse); `mode: 'hang'` reads the
 * request and never answers, like a collector that accepts connections and then stalls.
 */
export async function startOtlpReceiver(options: { mode?: 'answer' | 'hang' } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const exports: OtlpReceiver['exports'] = [];
  const undecodable: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  const held = new Map<http.ServerResponse, number>();
  let received = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (options.mode === 'hang') {
        hanging.add(res);
        held.set(res, ++received);
        res.once('close', () => held.delete(res));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      try {
        const decoded = decodeTraceExport(body);
        spans.push(...decoded);
        exports.push({ headers: req.headers, contentType: String(req.headers['content-type']), spanCount: decoded.length });
      } catch (error) {
        undecodable.push((error as Error).message);
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    exports,
    undecodable,
    held: () => [...held.values()],
    async waitForSpans(what, accept, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!accept(spans)) {
        if (Date.now() > deadline) throw new Error(`${what}: not received within ${timeoutMs} ms (${spans.length} spans: ${[...new Set(spans.map((s) => s.name))].join(', ')})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return spans;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
