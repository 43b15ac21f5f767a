#!/usr/bin/env bash
# Regenerates src/gen/ from proto/ with ts-proto. Needs protoc (Debian: protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
rm -rf src/gen && mkdir -p src/gen
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=src/gen \
  --ts_proto_opt=esModuleInterop=true,importSuffix=.js,outputServices=grpc-js,forceLong=bigint,useDate=false,env=node,oneof=unions-value,useExactTypes=false \
  -I proto -I /usr/include \
  proto/istio/mixer/v1/mixer.proto proto/istio/mixer/v1/attributes.proto
