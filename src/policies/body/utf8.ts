/**
 * Byte offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or -1 when all of `bytes` is valid. Used only to explain a failure
 * that `isUtf8` already found, so clarity beats speed here.
 */
export function findInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length
  let i = 0
  while (i < n) {
    const b = bytes[i]
    if (b < 0x80) {
      i++
      continue
    }
    let length: number
    let low = 0x80
    let high = 0xbf
    if (b >= 0xc2 && b <= 0xdf) length = 2
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3
      if (b === 0xe0) low = 0xa0
      if (b === 0xed) high = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4
      if (b === 0xf0) low = 0x90
      if (b === 0xf4) high = 0x8f
    } else return i
    if (i + length > n) return i
    // The second byte carries the overlong/surrogate limits; the rest are plain continuations.
    const second = bytes[i + 1]
    if (second < low || second > high) return i
    for (let k = 2; k < length; k++) {
      const c = bytes[i + k]
      if (c < 0x80 || c > 0xbf) return i
    }
    i += length
  }
  return -1
}
