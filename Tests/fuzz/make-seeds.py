#!/usr/bin/env python3
"""Writes the fuzz seed corpora in Tests/fuzz/corpus/<target>/.

Real traffic is captured from a running simulator (`rws sim --port 0`; pass its port): the
raw bytes of a WebSocket upgrade answer and one turn's frames, the same turn's events, and the
raw HTTP answers of a streamed POST and of unauthenticated requests. Hand-made edge cases (the
ones the Swift tests use) are added to each corpus. Run once; the output is committed.
Files named regression-* are inputs that once crashed a harness, kept by hand (each also has a
Swift regression test).

    .build/debug/rws sim --port 0 --output-tokens 6 &     # prints "listening ws://127.0.0.1:PORT/v1"
    python3 Tests/fuzz/make-seeds.py PORT
"""
import json
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Seeds are cut to this size: execs/s fall with input length (the fuzz build is -Onone + ASan).
CAP = 2048
KEY = "dGhlIHNhbXBsZSBub25jZQ=="          # RFC 6455's sample key: the harness sends it too
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frame(opcode, payload, fin=True, masked=False, rsv=0, length_bytes=None):
    payload = payload.encode() if isinstance(payload, str) else payload
    out = bytes([(0x80 if fin else 0) | rsv | opcode])
    m = 0x80 if masked else 0
    n = len(payload)
    if length_bytes == 8 or n > 0xFFFF:
        out += bytes([m | 127]) + struct.pack(">Q", n)
    elif length_bytes == 2 or n > 125:
        out += bytes([m | 126]) + struct.pack(">H", n)
    else:
        out += bytes([m | n])
    if masked:
        key = b"\x01\x02\x03\x04"
        return out + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return out + payload


def deflate_seeds():
    """permessage-deflate streams (the harness reads half its inputs as if it was agreed):
    compressed messages sharing one window, a fragmented one, RSV1 where it is not allowed,
    and a small frame that inflates to 1 MiB (over most of the harness's limits)."""
    import zlib
    window = zlib.compressobj(6, zlib.DEFLATED, -15)

    def packed(message):
        data = window.compress(message.encode()) + window.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(b"\x00\x00\xff\xff") else data

    first, second = packed('{"type":"response.created"}'), packed('{"type":"response.created"}')
    write("frames", "deflate-messages.bin", frame(0x1, first, rsv=0x40) + frame(0x1, second, rsv=0x40)
          + frame(0x1, "plain") + frame(0x1, b"\x00", rsv=0x40))
    body = packed('{"type":"response.output_text.delta","delta":"' + "ab" * 40 + '"}')
    write("frames", "deflate-fragmented.bin", frame(0x1, body[:5], fin=False, rsv=0x40) + frame(0x9, "p")
          + frame(0x0, body[5:]))
    write("frames", "deflate-rsv1-continuation.bin", frame(0x1, body[:5], fin=False, rsv=0x40) + frame(0x0, body[5:], rsv=0x40))
    write("frames", "deflate-rsv1-ping.bin", frame(0x9, "p", rsv=0x40))
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = bomb.compress(b" " * (1 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
    write("frames", "deflate-bomb.bin", frame(0x1, data[:-4], rsv=0x40))


def read_frames(data):
    """(opcode, payload) of each complete unmasked frame in data."""
    frames, i = [], 0
    while i + 2 <= len(data):
        n, h = data[i + 1] & 0x7F, 2
        if n == 126:
            n, h = struct.unpack(">H", data[i + 2:i + 4])[0], 4
        elif n == 127:
            n, h = struct.unpack(">Q", data[i + 2:i + 10])[0], 10
        if i + h + n > len(data):
            break
        frames.append((data[i] & 0x0F, data[i + h:i + h + n]))
        i += h + n
    return frames


def exchange(port, request, until, limit=1 << 20):
    """Sends request bytes, reads until `until(received)` or EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request)
    got = b""
    while not until(got) and len(got) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


def http_complete(got):
    """Whether got holds one whole HTTP answer with a Content-Length or chunked body."""
    head, sep, body = got.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return body.endswith(b"0\r\n\r\n")


def upgrade_request(port, auth=True):
    headers = [f"GET /v1/responses HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
               "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
    if auth:
        headers.append("Authorization: Bearer sk-local")
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


def post_request(port, body, auth=True):
    body = json.dumps(body).encode()
    headers = [f"POST /v1/responses HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
               "Accept: text/event-stream", f"Content-Length: {len(body)}", "Connection: close"]
    if auth:
        headers.append("Authorization: Bearer sk-local")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def capture(port):
    create = {"type": "response.create", "model": "gpt-5.6", "input": "Hello, fuzzer!", "store": False}
    bad_chain = dict(create, previous_response_id="resp_missing")

    def turn_done(got):
        return b"response.completed" in got or b"previous_response_not_found" in got

    for name, body in [("turn", create), ("chain-error", bad_chain)]:
        raw = exchange(port, upgrade_request(port) + frame(0x1, json.dumps(body), masked=True), turn_done)
        head, _, frames = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101") and ACCEPT.encode() in head, head
        write("http-upgrade", f"sim-101-{name}.bin", raw[:CAP])
        write("frames", f"sim-{name}.bin", frames[:CAP])
        seen = set()
        for opcode, payload in read_frames(frames):
            event_type = json.loads(payload)["type"]
            if opcode == 1 and event_type not in seen:  # one example of each type
                seen.add(event_type)
                write("events", f"sim-{name}-{event_type.replace('.', '-')}.json", payload)
        write("request", f"sim-{name}.json", json.dumps(body))

    http_body = {k: v for k, v in create.items() if k != "type"}
    sse = exchange(port, post_request(port, dict(http_body, stream=True)), lambda g: False)
    write("http-post", "sim-200-sse.bin", sse[:CAP])
    head, _, body = sse.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        body = dechunk(body)
    write("sse", "sim-stream.txt", body[:CAP])
    write("http-post", "sim-401.bin", exchange(port, post_request(port, create, auth=False), http_complete))
    write("http-upgrade", "sim-401.bin", exchange(port, upgrade_request(port, auth=False), http_complete))


def dechunk(body):
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def edge_cases():
    # Frames (WebSocketFrameParserTests): lengths, fragments with a ping between, close, violations.
    text = lambda s, fin=True: frame(0x1, s, fin=fin)
    write("frames", "mixed.bin", text('{"type":"response.created"}') + frame(0x1, "a" * 300)
          + frame(0x1, "eight", length_bytes=8) + text("Hel", fin=False) + frame(0x9, "p")
          + frame(0x0, "lo, ", fin=False) + frame(0x0, "world") + frame(0xA, "") + text("")
          + frame(0x8, struct.pack(">H", 1000) + b"bye"))
    write("frames", "masked.bin", frame(0x1, "x", masked=True))
    write("frames", "rsv.bin", frame(0x1, "x", rsv=0x40))
    write("frames", "long-ping.bin", frame(0x9, "p" * 126))
    write("frames", "fragmented-ping.bin", frame(0x9, "p", fin=False))
    write("frames", "lone-continuation.bin", frame(0x0, "x"))
    write("frames", "interleaved-message.bin", text("a", fin=False) + text("b"))
    write("frames", "binary.bin", frame(0x2, b"\x00\x01"))
    write("frames", "unknown-opcode.bin", frame(0x3, "x"))
    write("frames", "huge-length.bin", bytes([0x81, 127]) + struct.pack(">Q", 1 << 62) + b"abc")
    deflate_seeds()
    write("frames", "utf8.bin", text("h\u00e9llo \u2603 \U0001F600") + frame(0x1, b"\xff\xfe") + text("\u00e9", fin=False)[:-1])

    # Events: the protocol's shapes, escapes, numbers at the edges.
    write("events", "error-nested.json", json.dumps({
        "type": "error", "status": 400, "stream_id": "main", "sequence_number": 7,
        "error": {"type": "invalid_request_error", "code": "previous_response_not_found",
                  "message": "Previous response with id 'resp_abc' not found.", "param": "previous_response_id",
                  "headers": {"x-request-id": "req_1"}}}))
    write("events", "delta-escapes.json",
          '{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,'
          '"delta":"a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\\ud800x\\/","sequence_number":9223372036854775807}')
    write("events", "whitespace.json", ' {\r\n\t"type" : "response.completed" , "response" : { "id" : "resp_1",'
          ' "status" : "completed", "usage" : {"output_tokens": 1.5e3} } } ')
    write("events", "odd-kinds.json", '{"type":"x","delta":{"o":[1,-0,2.5E-3]},"sequence_number":"7",'
          '"output_index":-1,"status":99999999999,"error":null,"response":[]}')
    write("events", "not-event.json", '[{"type":"x"}]')

    # Requests: the shapes callers pass to rws_turn_start.
    write("request", "tools.json", json.dumps({
        "model": "gpt-5.6", "instructions": "Use tools.", "tools": [{"type": "function", "name": "read_file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}],
        "input": [{"type": "message", "role": "user", "content": "read a.txt"},
                  {"type": "function_call_output", "call_id": "call_1", "output": "hi \u2603"}],
        "temperature": 0.7, "max_output_tokens": 12345678901234567890}))
    write("request", "chaining.json", '{"previous_response_id":null,"generate":false,"stream_id":"lane-1","input":"x"}')
    write("request", "transport-fields.json", '{"type":"response.create","stream":true,"background":false,'
          '"stream_options":{},"input":[],"model":"m","model":"n"}')
    write("request", "bad.json", '{"input":[1],"generate":"yes","background":true,"previous_response_id":5}')
    write("request", "deep.json", "[" * 300 + "]" * 300)

    # SSE (SSEParserTests): line endings, comments, fields, multi-line data, [DONE], BOM.
    write("sse", "edges.txt", "\ufeffdata: a\r\rdata: b\n\ndata: c\r\n\r\n:comment\nevent: x\nid: 1\nretry: 5\n"
          "data: one\ndata:\ndata:  three\n\ndata\n\ndata: [DONE]\n\ndata: unterminated\n")

    # HTTP answers to the upgrade: 101 with frames behind it, a wrong Accept, refusals.
    ok101 = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n").encode()
    write("http-upgrade", "101-frames.bin", ok101 + text('{"type":"response.created"}') + frame(0x9, "p")
          + frame(0x8, struct.pack(">H", 1001)))
    write("http-upgrade", "101-bad-accept.bin", ok101.replace(b"s3pP", b"AAAA"))
    write("http-upgrade", "101-no-upgrade-header.bin", ok101.replace(b"Upgrade: websocket\r\n", b""))
    write("http-upgrade", "429-chunked.bin", b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\n"
          b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
          b"d\r\n{\"error\":\"x\"}\r\n0\r\n\r\n")
    write("http-upgrade", "426-close-delimited.bin", b"HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\n\r\n"
          b"use HTTP/SSE; Bearer sk-local-secret-1234")
    write("http-upgrade", "100-then-101.bin", b"HTTP/1.1 100 Continue\r\n\r\n" + ok101)

    # HTTP answers to the POST: SSE (chunked, close-delimited), JSON, errors, 1xx.
    events = b"data: {\"type\":\"response.created\"}\n\ndata: {\"type\":\"response.completed\"}\n\ndata: [DONE]\n\n"
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(events[i:i + 17]), events[i:i + 17]) for i in range(0, len(events), 17))
    write("http-post", "200-sse-chunked.bin", b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n")
    write("http-post", "200-sse-close-delimited.bin", b"HTTP/1.1 200 OK\r\ncontent-type: TEXT/EVENT-STREAM\r\n\r\n" + events)
    with_length = lambda head, body: head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    write("http-post", "200-json.bin", with_length(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                                                  b'{"id":"resp_1","output":[]}'))
    write("http-post", "100-then-200.bin", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    write("http-post", "429-retry-after.bin", with_length(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\n",
          b'{"error":{"code":"rate_limit_exceeded","message":"slow down"}}'))
    write("http-post", "500-chunked-truncated.bin", b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"ff\r\noops")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        capture(int(sys.argv[1]))
    edge_cases()
