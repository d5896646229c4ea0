// uWebSockets.js comes from a republished package that silently falls back to a slow pure-JS
// implementation when its native binary does not load (see native-notes/uws.md). We load it
// here, once, and find out which one we got, so the server can refuse the fallback loudly.
import { createRequire } from 'node:module';
import uWS from 'uWebSockets.js';

export { uWS };

export interface UwsStatus {
  native: boolean;
  binaryPath: string;
  detail: string;
}

export function uwsStatus(): UwsStatus {
  const require = createRequire(import.meta.url);
  const binaryPath = require.resolve(
    `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  try {
    // A native addon is loaded once per process: requiring the binary again returns the very
    // object the package handed us if, and only if, the package loaded that binary.
    const binary: unknown = require(binaryPath);
    const native = binary === (uWS as unknown) || (typeof binary === 'object' && binary !== null && (binary as { App?: unknown }).App === (uWS as { App?: unknown }).App);
    return { native, binaryPath, detail: native ? 'native binary loaded' : 'package returned the JS fallback' };
  } catch (err) {
    return { native: false, binaryPath, detail: `native binary failed to load: ${(err as Error).message}` };
  }
}

/** msgpackr decodes strings natively (msgpackr-extract) when its prebuilt addon loads. */
export { isNativeAccelerationEnabled as msgpackrNative } from 'msgpackr';

/** The certificate files of uWS's native TLS (PEM file names, read by uSockets itself). */
export interface UwsTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string | null;
  passphrase: string | null;
}

/**
 * The one place an App is made: plain, or SSLApp with the server's certificate. uSockets reads
 * the files when the App is made and throws "App construction failed" on a bad one (the main
 * thread checks them first, with node:tls, for a clear message). With ca_file_name uSockets
 * verifies a certificate a client presents (an unknown CA ends the handshake) but does not
 * require one; that mode is served by the TLS front instead (tls-front.ts).
 */
export function createApp(tls: UwsTlsFiles | null): uWS.TemplatedApp {
  if (tls === null) return uWS.App();
  return uWS.SSLApp({
    cert_file_name: tls.certFile,
    key_file_name: tls.keyFile,
    ...(tls.caFile !== null ? { ca_file_name: tls.caFile } : {}),
    ...(tls.passphrase !== null ? { passphrase: tls.passphrase } : {}),
  });
}
