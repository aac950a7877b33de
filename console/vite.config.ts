import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

// The console is served by the admin listener from dist/console; every asset is bundled (no CDN).
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // Charts are the bulk of the bundle: their own chunk, loaded with the dashboard only.
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (/node_modules\/(recharts|d3-|victory-vendor|decimal\.js|@reduxjs|redux|immer|reselect|es-toolkit|eventemitter3|tiny-invariant)/.test(id)) return 'charts'
          if (/node_modules\/(react|react-dom|react-router|scheduler|cookie|set-cookie-parser)\//.test(id)) return 'react'
          return undefined
        },
      },
    },
  },
})
