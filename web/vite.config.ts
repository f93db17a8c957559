import { defineConfig } from 'vitest/config';

// The production build is served by the conclave server from build/web (see
// CMakeLists.txt). Everything the page needs is emitted here: no CDN, no web fonts, no
// inline scripts (the server's Content-Security-Policy allows only 'self').
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist', // CMake passes --outDir build/web
    emptyOutDir: true,
    // Modern browsers only; the modulepreload polyfill would add an inline-free but
    // pointless script for them.
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  // The shared vector files (tests/vectors/, checked by the C++ suite too) are read by
  // the unit tests with `?raw`; nothing else outside web/ may be served.
  server: { fs: { allow: ['.', '../tests/vectors'] } },
  // Unit tests of the client's state logic (src/**/*.test.ts), run by CTest as web.unit.
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
