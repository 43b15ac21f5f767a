/**
 * The `grpc-message` trailer is percent-encoded (gRPC over HTTP/2: bytes outside printable ASCII,
 * and `%` itself, as `%XX` of their UTF-8), so that any status details survive HTTP/2 header
 * rules. Details are almost always plain ASCII, which passes through without a copy.
 */
const HEX = '0123456789ABCDEF';

export function encodeGrpcMessage(details: string): string {
  let plain = true;
  for (let i = 0; i < details.length; i++) {
    const c = details.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return details;
  let out = '';
  for (const byte of Buffer.from(details, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${HEX[byte >> 4]!}${HEX[byte & 15]!}` : String.fromCharCode(byte);
  }
  return out;
}
