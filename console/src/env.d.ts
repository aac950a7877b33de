// Vite bundles imported CSS; TypeScript only needs to know the import exists.
declare module '*.css'
