import { defineConfig } from 'vite';

// Built by the project's `npm run build` into dist/console, served by the service under /ui/
// (src/console/serve-console.ts). Everything the page loads comes from that folder.
export default defineConfig({
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // Source maps stay out: they would double what the server holds for no reader.
    sourcemap: false,
  },
});
