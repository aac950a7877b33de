import { writeFileSync } from 'node:fs'
import { renderErrorsDoc } from './errors-doc.js'

// `npm run docs`: regenerates docs/errors.md from the rule declarations.
writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsDoc())
