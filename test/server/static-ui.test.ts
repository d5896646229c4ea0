// The console's static files: only files found in dist/ui at start are answered; no request path
// reaches the file system.
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadUi, uiAnswer } from '../../src/server/http/static-ui.js';
import { tempDir } from '../helpers/server.js';

describe('console static files', () => {
  it('serves the built files, redirects /ui to /ui/, and answers 404 for anything else including ../ paths', () => {
    const dir = tempDir('zk-ui-');
    try {
      writeFileSync(join(dir, 'index.html'), '<!doctype html>');
      writeFileSync(join(dir, 'console.js'), 'export {}');
      writeFileSync(join(dir, 'secret.txt'), 'not a console file type');
      mkdirSync(join(dir, 'sub'));
      const files = loadUi(dir);
      assert.deepEqual([...files.keys()].sort(), ['console.js', 'index.html']);
      assert.equal(uiAnswer(files, '/ui').status, '301 Moved Permanently');
      const index = uiAnswer(files, '/ui/');
      assert.equal(index.status, '200 OK');
      assert.equal(index.body.toString(), '<!doctype html>');
      assert.ok(index.headers.some(([k, v]) => k === 'content-type' && v.startsWith('text/html')));
      assert.equal(uiAnswer(files, '/ui/console.js').headers[0]![1], 'text/javascript; charset=utf-8');
      for (const url of ['/ui/secret.txt', '/ui/../package.json', '/ui/sub', '/ui/nope.js']) assert.equal(uiAnswer(files, url).status, '404 Not Found', url);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says the console is not built when dist/ui is missing', () => {
    const files = loadUi('/nonexistent/zk-ui');
    const a = uiAnswer(files, '/ui/');
    assert.equal(a.status, '404 Not Found');
    assert.match(a.body.toString(), /npm run build/);
  });
});
