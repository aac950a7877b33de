import { isUtf8 } from 'node:buffer'
import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { findJsonSyntaxError, lineAndColumn, type JsonSyntaxError } from './json-error.js'
import { isJsonMediaType, MediaRangeSet, parseMediaType } from './media-type.js'
import { rules } from './rules.js'
import { BodyConfig } from './schema.js'
import { findInvalidUtf8Offset } from './utf8.js'

// Longer than any length we could accept; saves turning 40 digits into a float.
const maxLengthDigits = 15

/**
 * `body`: size, media type and JSON syntax, in that order, before any layer acts on the body.
 *
 * A declared Content-Length over the limit is refused without reading a byte. The pipeline
 * buffers at most `maxBytes` (see `bodyLimitBytes`) and says `too-large` beyond that. Requests
 * without a body pass. A valid JSON body is handed on as `allow({ json })`; parsing is
 * synchronous but bounded by `maxBytes`.
 */
export const bodyPolicy = definePolicy({
  name: 'body',
  configKey: 'body',
  order: 300,
  schema: BodyConfig,
  rules,
  needsBody: () => true,
  bodyLimitBytes: (config) => config.maxBytes,
  compile(config, deps) {
    const where = `routes[${deps.routeName}].policies.body`
    const maxBytes = config.maxBytes
    const types = config.types === undefined ? undefined : new MediaRangeSet(config.types)
    const allowedTypes = config.types ?? []
    const allowedText = allowedTypes.join(', ')

    function refuseTooLarge(ctx: RequestContext, declared: number): Verdict {
      const body = ctx.body
      const receivedBytes = body.kind === 'buffered' ? body.bytes.length : body.kind === 'too-large' ? body.receivedBytes : 0
      const overDeclared = declared > maxBytes
      return deny(rules.tooLarge, {
        message: overDeclared && Number.isFinite(declared)
          ? `The request declares a ${declared}-byte body; this route accepts at most ${maxBytes} bytes.`
          : `The request body is larger than the ${maxBytes} bytes this route accepts.`,
        remediation: `Raise ${where}.maxBytes (now ${maxBytes}) if bodies this large are expected, or have the client send less.`,
        detail: {
          limitBytes: maxBytes,
          receivedBytes,
          ...(declared >= 0 ? { declaredBytes: Number.isFinite(declared) ? declared : null } : {}),
        },
      })
    }

    function refuseType(mediaType: string | undefined, contentType: string | undefined): Verdict {
      const received = mediaType ?? (contentType === undefined ? null : clip(contentType))
      return deny(rules.unsupportedType, {
        message:
          contentType === undefined
            ? `The request has a body but no Content-Type header; send one of: ${allowedText}.`
            : `This route does not accept '${received}' bodies; send one of: ${allowedText}.`,
        remediation:
          contentType === undefined
            ? `Have the client set Content-Type, or add its type to ${where}.types (now ${allowedText}).`
            : `Add '${received}' to ${where}.types (now ${allowedText}) if the upstream accepts it, or have the client send one of those.`,
        detail: { type: received, allowedTypes },
      })
    }

    function refuseJson(error: JsonSyntaxError & { byteOffset: number }, mediaType: string): Verdict {
      return deny(rules.malformedJson, {
        message: `The request body is not valid JSON: ${error.reason} at line ${error.line}, column ${error.column}.`,
        remediation: `Fix the client's JSON (see detail for the position), or set ${where}.json to false to let bodies through unchecked.`,
        detail: {
          type: mediaType,
          position: error.position,
          byteOffset: error.byteOffset,
          line: error.line,
          column: error.column,
          reason: error.reason,
        },
      })
    }

    return function evaluateBody(ctx): Verdict {
      const body = ctx.body
      const declared = parseContentLength(ctx.headers['content-length'])
      if (declared > maxBytes || body.kind === 'too-large' || (body.kind === 'buffered' && body.bytes.length > maxBytes)) {
        return refuseTooLarge(ctx, declared)
      }
      if (body.kind !== 'buffered' || body.bytes.length === 0) return allow()

      const contentType = ctx.headers['content-type']
      const mediaType = contentType === undefined ? undefined : parseMediaType(contentType)
      if (types !== undefined && (mediaType === undefined || !types.has(mediaType))) return refuseType(mediaType, contentType)
      if (!config.json || mediaType === undefined || !isJsonMediaType(mediaType)) return allow()

      const bytes = body.bytes
      if (!isUtf8(bytes)) return refuseJson(describeUtf8Error(bytes), mediaType)
      const text = bytes.toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        return refuseJson(describeJsonError(text), mediaType)
      }
      return allow({ json })
    }
  },
})

/** Content-Length as a number; -1 when absent; Infinity when too long to matter. */
function parseContentLength(value: string | undefined): number {
  if (value === undefined) return -1
  const text = value.trim()
  if (!/^[0-9]+$/.test(text)) return -1
  return text.length > maxLengthDigits ? Infinity : Number(text)
}

function describeJsonError(text: string): JsonSyntaxError & { byteOffset: number } {
  const found = findJsonSyntaxError(text)
  // Our scanner and V8 agree on RFC 8259; this is only a guard against a disagreement.
  const error = found ?? { position: 0, line: 1, column: 1, reason: 'invalid JSON' }
  return { ...error, byteOffset: Buffer.byteLength(text.slice(0, error.position), 'utf8') }
}

function describeUtf8Error(bytes: Buffer): JsonSyntaxError & { byteOffset: number } {
  const byteOffset = Math.max(0, findInvalidUtf8Offset(bytes))
  const before = bytes.subarray(0, byteOffset).toString('utf8')
  return { position: before.length, byteOffset, ...lineAndColumn(before, before.length), reason: 'invalid UTF-8 byte' }
}

function clip(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 200)}…`
}
