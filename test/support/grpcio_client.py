#!/usr/bin/env python3
"""A gRPC client that nobody on this project wrote: Python's grpcio, a binding of gRPC C-core.

The interop tests drive Telemux with it, so that the server is checked against another gRPC
implementation than the grpc-js the rest of the suite uses. It only moves bytes: the test encodes
each request and decodes each answer, so no protobuf code is needed here.

stdin: one JSON object
  {"target": "127.0.0.1:PORT",
   "tls": null | {"root": PATH, "cert": PATH | null, "key": PATH | null},
   "calls": [{"method": "/pkg.Service/Method", "request": BASE64,
              "metadata": [[KEY, VALUE], ...], "compression": null | "gzip" | "deflate"}],
   "concurrent": false | true}   (true: every call started at once on the one channel)
stdout: a JSON list, one entry per call, in order:
  {"code": INT, "name": "OK" | status name, "details": STR, "response": BASE64 | null}
"""
import base64
import json
import sys

import grpc

COMPRESSION = {None: grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}


def read(path):
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def channel_for(spec):
    tls = spec.get("tls")
    if not tls:
        return grpc.insecure_channel(spec["target"])
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(tls["root"]),
        private_key=read(tls.get("key")),
        certificate_chain=read(tls.get("cert")),
    )
    return grpc.secure_channel(spec["target"], creds)


def call(channel, c):
    # No serialisers: requests and responses pass through as bytes.
    method = channel.unary_unary(c["method"])
    try:
        response, _ = method.with_call(
            base64.b64decode(c["request"]),
            timeout=10,
            metadata=[tuple(kv) for kv in c.get("metadata", [])],
            compression=COMPRESSION[c.get("compression")],
        )
        return {"code": 0, "name": "OK", "details": "", "response": base64.b64encode(response).decode()}
    except grpc.RpcError as e:
        return {"code": e.code().value[0], "name": e.code().name, "details": e.details() or "", "response": None}


def outcome(future):
    try:
        response = future.result()
        return {"code": 0, "name": "OK", "details": "", "response": base64.b64encode(response).decode()}
    except grpc.RpcError as e:
        return {"code": e.code().value[0], "name": e.code().name, "details": e.details() or "", "response": None}


def start(channel, c):
    return channel.unary_unary(c["method"]).future(
        base64.b64decode(c["request"]),
        timeout=30,
        metadata=[tuple(kv) for kv in c.get("metadata", [])],
        compression=COMPRESSION[c.get("compression")],
    )


def main():
    spec = json.load(sys.stdin)
    with channel_for(spec) as channel:
        if spec.get("concurrent"):
            # All in flight together: HTTP/2 interleaves their frames under C-core's flow control.
            futures = [start(channel, c) for c in spec["calls"]]
            results = [outcome(f) for f in futures]
        else:
            results = [call(channel, c) for c in spec["calls"]]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
