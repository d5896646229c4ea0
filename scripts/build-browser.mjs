// The browser half of `npm run build`: bundles the client library (src/browser/index.ts, the
// same modules as the Node package) into dist/ui/zookooper.js and the console (src/ui/) into
// dist/ui/console.js, and copies the console's static files beside them. The workers serve
// dist/ui at /ui (src/server/http/static-ui.ts).
//
// What differs from Node is decided here, in one place:
//   ./socket.js (imported by src/client/session.ts)  -> src/client/socket-browser.ts
//   node:events                                       -> the `events` package (Node's EventEmitter)
//   node:crypto                                       -> src/browser/crypto.ts (randomUUID)
//   the globals Buffer and process                    -> src/browser/shims.ts
// Any other Node built-in or `ws` reaching the bundle is a build error, so a Node-only import
// added to the client later cannot slip into the browser silently.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/ui');
const require = (await import('node:module')).createRequire(import.meta.url);

const browserSeams = {
  name: 'zookooper-browser-seams',
  setup(b) {
    b.onResolve({ filter: /^\.\/socket\.js$/ }, (args) => {
      if (!args.importer.endsWith(join('src', 'client', 'session.ts'))) return undefined;
      return { path: join(root, 'src/client/socket-browser.ts') };
    });
    b.onResolve({ filter: /^(node:)?events$/ }, () => ({ path: require.resolve('events/') }));
    b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: join(root, 'src/browser/crypto.ts') }));
    b.onResolve({ filter: /^(node:.*|ws|fs|path|os|net|tls|crypto|worker_threads)$/ }, (args) => ({
      errors: [{ text: `Node-only import '${args.path}' in the browser bundle (from ${args.importer})` }],
    }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110'],
  inject: [join(root, 'src/browser/shims.ts')],
  plugins: [browserSeams],
  sourcemap: true,
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

mkdirSync(out, { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: [join(root, 'src/browser/index.ts')], outfile: join(out, 'zookooper.js') }),
  build({ ...common, entryPoints: [join(root, 'src/ui/main.ts')], outfile: join(out, 'console.js') }),
]);
for (const name of readdirSync(join(root, 'src/ui'))) {
  if (/\.(html|css|svg)$/.test(name)) copyFileSync(join(root, 'src/ui', name), join(out, name));
}
