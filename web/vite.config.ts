import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app is served by `pipeit serve` at `/`, same origin as the API: every URL it uses is relative.
// In development (`npm run dev` / `npm run preview`) the API is proxied to PIPEIT_API
// (default http://127.0.0.1:8180, the port of the dev stack in web/README.md).
const api = process.env.PIPEIT_API ?? 'http://127.0.0.1:8180';
const proxy = {
  '/v1': { target: api, changeOrigin: false },
  '/openapi.json': { target: api, changeOrigin: false },
};

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: { host: '127.0.0.1', proxy },
  preview: { host: '127.0.0.1', proxy },
});
