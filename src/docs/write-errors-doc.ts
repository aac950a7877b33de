import { writeFileSync } from 'node:fs'
import { renderConfigDoc } from './config-doc.js'
import { renderErrorsDoc } from './errors-doc.js'

// `npm run docs`: regenerates docs/errors.md and docs/config.md from the code.
writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsDoc())
writeFileSync(new URL('../../docs/config.md', import.meta.url), renderConfigDoc())
