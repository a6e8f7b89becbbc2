/**
 * Checks that bytes are one value of standard MessagePack with no extension types: what any
 * MessagePack library reads. msgpackr can write its own extensions (records, `undefined`, typed
 * arrays), which other libraries cannot read, so every MessagePack answer in the tests goes
 * through this before it is decoded.
 */
export function assertStandardMsgpack(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let pending = 1;
  const skip = (n: number) => {
    at += n;
  };
  while (pending > 0) {
    if (at >= bytes.length) throw new Error(`truncated MessagePack at byte ${at}`);
    const type = bytes[at] as number;
    const where = `byte ${at} (0x${type.toString(16)})`;
    at++;
    pending--;
    if (type <= 0x7f || type >= 0xe0 || type === 0xc0 || type === 0xc2 || type === 0xc3) continue;
    if (type <= 0x8f) pending += 2 * (type & 0x0f);
    else if (type <= 0x9f) pending += type & 0x0f;
    else if (type <= 0xbf) skip(type & 0x1f);
    else if (type === 0xc4 || type === 0xd9) skip(view.getUint8(at) + 1);
    else if (type === 0xc5 || type === 0xda) skip(view.getUint16(at) + 2);
    else if (type === 0xc6 || type === 0xdb) skip(view.getUint32(at) + 4);
    else if (type === 0xca) skip(4);
    else if (type === 0xcb) skip(8);
    else if (type === 0xcc || type === 0xd0) skip(1);
    else if (type === 0xcd || type === 0xd1) skip(2);
    else if (type === 0xce || type === 0xd2) skip(4);
    else if (type === 0xcf || type === 0xd3) skip(8);
    else if (type === 0xdc) {
      pending += view.getUint16(at);
      skip(2);
    } else if (type === 0xdd) {
      pending += view.getUint32(at);
      skip(4);
    } else if (type === 0xde) {
      pending += 2 * view.getUint16(at);
      skip(2);
    } else if (type === 0xdf) {
      pending += 2 * view.getUint32(at);
      skip(4);
    } else {
      // 0xc1 (never used), ext 8/16/32 (0xc7–0xc9) and fixext (0xd4–0xd8)
      throw new Error(`not standard MessagePack: an extension or reserved type at ${where}`);
    }
  }
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after the MessagePack value`);
}
