/** Where and why a text is not JSON (RFC 8259), in words safe to show: never a piece of the body. */
export interface JsonSyntaxError {
  /** 0-based offset in characters (UTF-16 code units) of the decoded body. */
  position: number
  /** 1-based line and column of `position`. */
  line: number
  column: number
  reason: string
}

const enum Container {
  Array,
  Object,
}

/**
 * Finds the first syntax error in `text`, or undefined when it is valid JSON. Only used after
 * JSON.parse has failed: V8's messages change between versions and some quote the body,
 * which may hold secrets, so we locate the error ourselves. One pass, no recursion (nesting
 * lives in an explicit stack), so a hostile body cannot blow the call stack.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const n = text.length
  const stack: Container[] = []
  let i = 0

  const fail = (position: number, reason: string): JsonSyntaxError => ({ position, ...lineAndColumn(text, position), reason })
  const skipWhitespace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return
      i++
    }
  }

  if (text.charCodeAt(0) === 0xfeff) return fail(0, 'the body starts with a byte order mark, which JSON does not allow')

  // `afterComma` tells a trailing comma apart from any other misplaced character.
  let afterComma = false
  for (;;) {
    // A value is expected here.
    skipWhitespace()
    if (i >= n) return fail(i, stack.length === 0 && i === 0 ? 'the body is empty' : 'unexpected end of input, expected a value')
    const c = text.charCodeAt(i)
    if (c === 0x7b /* { */) {
      i++
      skipWhitespace()
      if (text.charCodeAt(i) === 0x7d /* } */) {
        i++
      } else {
        stack.push(Container.Object)
        const keyError = scanKey()
        if (keyError !== undefined) return keyError
        afterComma = false
        continue
      }
    } else if (c === 0x5b /* [ */) {
      i++
      skipWhitespace()
      if (text.charCodeAt(i) === 0x5d /* ] */) {
        i++
      } else {
        stack.push(Container.Array)
        afterComma = false
        continue
      }
    } else if (c === 0x22 /* " */) {
      const stringError = scanString()
      if (stringError !== undefined) return stringError
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const numberError = scanNumber()
      if (numberError !== undefined) return numberError
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null'
      for (let k = 0; k < word.length; k++, i++) {
        if (i >= n) return fail(i, `unexpected end of input inside '${word}'`)
        if (text.charCodeAt(i) !== word.charCodeAt(k)) return fail(i, `invalid literal, expected '${word}'`)
      }
    } else if (afterComma && (c === 0x5d || c === 0x7d)) {
      return fail(i, 'trailing comma before the closing bracket')
    } else {
      return fail(i, c === 0x27 /* ' */ ? 'strings must use double quotes' : 'unexpected character, expected a value')
    }

    // A value just ended: close containers or move to the next item.
    for (;;) {
      skipWhitespace()
      const top = stack.length === 0 ? undefined : stack[stack.length - 1]
      if (top === undefined) return i < n ? fail(i, 'unexpected data after the JSON value') : undefined
      const close = top === Container.Array ? 0x5d : 0x7d
      const closeText = top === Container.Array ? ']' : '}'
      if (i >= n) return fail(i, `unexpected end of input, expected ',' or '${closeText}'`)
      const d = text.charCodeAt(i)
      if (d === close) {
        stack.pop()
        i++
        continue
      }
      if (d !== 0x2c /* , */) return fail(i, `expected ',' or '${closeText}'`)
      i++
      if (top === Container.Object) {
        skipWhitespace()
        if (text.charCodeAt(i) === 0x7d) return fail(i, 'trailing comma before the closing bracket')
        const keyError = scanKey()
        if (keyError !== undefined) return keyError
      }
      // In an object the value follows a key, so a '}' there is a missing value, not a trailing comma.
      afterComma = top === Container.Array
      break
    }
  }

  /** At a property name: the string, then ':'. Leaves `i` where the value starts. */
  function scanKey(): JsonSyntaxError | undefined {
    skipWhitespace()
    if (i >= n) return fail(i, 'unexpected end of input, expected a property name')
    if (text.charCodeAt(i) !== 0x22) return fail(i, 'expected a double-quoted property name')
    const stringError = scanString()
    if (stringError !== undefined) return stringError
    skipWhitespace()
    if (i >= n) return fail(i, "unexpected end of input, expected ':'")
    if (text.charCodeAt(i) !== 0x3a /* : */) return fail(i, "expected ':' after the property name")
    i++
    return undefined
  }

  function scanString(): JsonSyntaxError | undefined {
    const start = i
    i++
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return undefined
      }
      if (c < 0x20) return fail(i, 'control character inside a string (escape it, e.g. \\n)')
      if (c === 0x5c /* \ */) {
        const e = text.charCodeAt(i + 1)
        if (e === 0x75 /* u */) {
          for (let k = 2; k < 6; k++) {
            if (!isHexDigit(text.charCodeAt(i + k))) return fail(i, 'invalid \\u escape, expected four hex digits')
          }
          i += 6
          continue
        }
        // " \ / b f n r t
        if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2
          continue
        }
        return fail(i, i + 1 >= n ? 'unterminated string' : 'invalid escape sequence in a string')
      }
      i++
    }
    return fail(start, 'unterminated string')
  }

  function scanNumber(): JsonSyntaxError | undefined {
    if (text.charCodeAt(i) === 0x2d) i++
    if (!isDigit(text.charCodeAt(i))) return fail(i, "expected a digit after '-'")
    if (text.charCodeAt(i) === 0x30) {
      i++
      if (isDigit(text.charCodeAt(i))) return fail(i, 'numbers may not have leading zeros')
    } else {
      while (isDigit(text.charCodeAt(i))) i++
    }
    if (text.charCodeAt(i) === 0x2e /* . */) {
      i++
      if (!isDigit(text.charCodeAt(i))) return fail(i, "expected a digit after '.'")
      while (isDigit(text.charCodeAt(i))) i++
    }
    const e = text.charCodeAt(i)
    if (e === 0x65 || e === 0x45) {
      i++
      const sign = text.charCodeAt(i)
      if (sign === 0x2b || sign === 0x2d) i++
      if (!isDigit(text.charCodeAt(i))) return fail(i, 'expected a digit in the exponent')
      while (isDigit(text.charCodeAt(i))) i++
    }
    return undefined
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

/** 1-based line and column of a character offset; counts \n, as editors do. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }
  return { line, column: position - lineStart + 1 }
}
