/** The log analyser behind `gatehouse logs`: what the CLI and bench/logs.js use. */
export { analyseFile, analyseSource, LogInputError, type AnalyseOptions } from './analyse.js'
export { detectFormat } from './detect.js'
export { renderFileReport, plainStyle, ansiStyle } from './render.js'
export { LogFormatError } from './parsers/index.js'
export { logFormats, type FileReport, type LogFormat } from './types.js'
