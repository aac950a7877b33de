import type { LogFormat, RecordParser } from '../types.js'
import { createAccessLogParser, type AccessLogTraits } from './access-log.js'
import { createApacheErrorParser, createNginxErrorParser } from './error-log.js'
import { createGatehouseParser } from './gatehouse.js'
import { createIisParser } from './iis.js'
import { createModsecJsonParser } from './modsec-json.js'
import { createModsecNativeParser } from './modsec-native.js'
import { compileNginxLogFormat } from './nginx-log-format.js'

export { LogFormatError } from './nginx-log-format.js'

/** Options that shape a parser. */
export interface ParserOptions {
  /** An nginx `log_format` string; compiled for the `nginx` format instead of the built-in combined reader. */
  logFormat?: string
  /** Filled in by the access-log parser: what it saw (nginx vs Apache clues). */
  traits?: AccessLogTraits
}

/** Creates the line parser for a format. Throws LogFormatError for a bad `logFormat`. */
export function createParser(format: LogFormat, options: ParserOptions = {}): RecordParser {
  switch (format) {
    case 'nginx':
      return options.logFormat !== undefined ? compileNginxLogFormat(options.logFormat) : createAccessLogParser(options.traits)
    case 'apache':
      return createAccessLogParser(options.traits)
    case 'apache-error':
      return createApacheErrorParser()
    case 'nginx-error':
      return createNginxErrorParser()
    case 'iis':
      return createIisParser()
    case 'modsec-native':
      return createModsecNativeParser()
    case 'modsec-json':
      return createModsecJsonParser()
    case 'gatehouse':
      return createGatehouseParser()
  }
}
