import react from "@vitejs/plugin-react";
import { type Plugin, defineConfig } from "vite";

/** Vite's helper that every `import()` goes through, to preload what the
 * chunk imports. With `modulePreload: false` it preloads nothing for script,
 * and the page's one lazy chunk (the sign-in, oidc.ts) has no stylesheet, yet
 * it weighs 0.7 KB gzipped in the page's script: here it just imports. A lazy
 * chunk with a stylesheet would need the real one, so the build then fails. */
const PRELOAD_HELPER = "\0vite/preload-helper.js";

const plainImport: Plugin = {
  name: "papo:plain-import",
  enforce: "pre",
  resolveId: (id) => (id === PRELOAD_HELPER ? id : null),
  load: (id) => (id === PRELOAD_HELPER ? "export const __vitePreload = (load) => load();" : null),
  generateBundle(_, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type === "chunk" && chunk.isDynamicEntry && chunk.viteMetadata?.importedCss.size) {
        this.error(`${chunk.fileName} has a stylesheet, which the plain import() does not load`);
      }
    }
  },
};

export default defineConfig({
  plugins: [react(), plainImport],
  resolve: {
    alias: {
      "@ungap/structured-clone": decodeURIComponent(new URL("src/structuredClone.ts", import.meta.url).pathname),
    },
  },
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, modulePreload: false },
});
