import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { redocDir, sparkDir } from '../src/ui/vendor.js';

// The page loads spark and redoc from our own origin under versioned paths the server serves
// straight out of node_modules (src/ui/static.ts), so the bundle only needs their prefixes.
export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [preact()],
  define: {
    __SPARK__: JSON.stringify(sparkDir().prefix),
    __REDOC__: JSON.stringify(redocDir().prefix),
  },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: { input: { index: 'web/index.html', docs: 'web/docs.html' } },
  },
});
