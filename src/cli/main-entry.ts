import { main } from './main.js'

// Entry for running the CLI from source (tests spawn it with tsx); bin/gatehouse.js runs dist/.
main(process.argv.slice(2)).then((code) => { process.exitCode = code })
