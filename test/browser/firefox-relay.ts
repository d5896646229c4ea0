// What playwright-core launches as "firefox" (through the small sh script that test/browser/
// launch.ts writes): Debian's own firefox-esr, with a WebDriver BiDi relay in front of it.
//
// Why a relay: playwright-core drives a stock Firefox over WebDriver BiDi (channel moz-firefox;
// Debian's build has no Juggler, playwright's own Firefox protocol), and every new browser
// context it makes first sends `emulation.setMediaFeaturesOverride`, which Firefox ESR 153 does
// not know: the context fails with "unknown command". With colorScheme 'no-override' that
// command asks for no override at all (every feature null), which in a browser that never had
// an override changes nothing; the relay answers exactly that request with success and forwards
// every other message, both ways, unchanged. An override with a value still goes to Firefox and
// still fails there, so nothing the browser cannot do is ever reported as done.
//
// The rest is plumbing: the arguments go to firefox as they came; Firefox's line "WebDriver BiDi
// listening on ws://..." (which playwright waits for) is replaced by the relay's own address;
// this process ends with Firefox, and passes on the signals it is sent to it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

const firefoxPath = process.env.ZK_FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const listeningLine = /WebDriver BiDi listening on (ws:\/\/\S+)/;

interface BidiCommand {
  id?: number;
  method?: string;
  params?: { features?: Record<string, unknown> };
}

/** The one command answered here: a media-features override that overrides nothing. */
function isNoOverride(command: BidiCommand): boolean {
  if (command.method !== 'emulation.setMediaFeaturesOverride' || typeof command.id !== 'number') return false;
  return Object.values(command.params?.features ?? {}).every((v) => v === null || v === undefined);
}

function relayConnection(client: WebSocket, upstreamUrl: string): void {
  const upstream = new WebSocket(upstreamUrl, { perMessageDeflate: false });
  const pending: string[] = []; // what the client sent before Firefox's socket opened
  upstream.on('open', () => pending.splice(0).forEach((m) => upstream.send(m)));
  upstream.on('message', (data: RawData) => client.send(data.toString()));
  client.on('message', (data: RawData) => {
    const text = data.toString();
    let command: BidiCommand = {};
    try {
      command = JSON.parse(text) as BidiCommand;
    } catch {
      // not JSON: Firefox answers it with its own error
    }
    if (isNoOverride(command)) {
      client.send(JSON.stringify({ type: 'success', id: command.id, result: {} }));
      return;
    }
    if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
    else pending.push(text);
  });
  upstream.on('close', () => client.close());
  upstream.on('error', () => client.close());
  client.on('close', () => upstream.close());
  client.on('error', () => upstream.close());
}

const firefox = spawn(firefoxPath, process.argv.slice(2), { stdio: ['ignore', 'inherit', 'pipe'] });
firefox.on('error', (e) => {
  process.stderr.write(`cannot start ${firefoxPath}: ${e.message}\n`);
  process.exit(1);
});
firefox.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => firefox.kill(signal));

createInterface({ input: firefox.stderr! }).on('line', (line) => {
  const match = listeningLine.exec(line);
  if (!match) {
    process.stderr.write(`${line}\n`);
    return;
  }
  const upstreamBase = match[1]!;
  const relay = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false }, () => {
    const address = relay.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stderr.write(`WebDriver BiDi listening on ws://127.0.0.1:${port}\n`);
  });
  relay.on('connection', (client, request) => relayConnection(client, upstreamBase + (request.url ?? '')));
});
