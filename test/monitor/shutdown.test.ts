/**
 * The /metrics endpoint at shutdown: a scrape whose connection the kernel completed while the
 * event loop was blocked (the monitor's shutdown writes and fsyncs its last bundles) waits in the
 * listener's queue, and closing the listener resets it (the scraper reads "connection reset").
 * stopListening closes only after the loop has accepted what was queued: that scrape is answered
 * in full, and one after it is refused. The scraper is a process of its own (python), so it
 * connects and sends while this one is blocked; the first case shows that closing at once does
 * reset it, so the second proves something.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopListening } from '../../src/cli/monitor.js';

const work = mkdtempSync(join(tmpdir(), 'bondscope-shutdown-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Connects, sends a GET, says so (the marker file), then prints the status line and body, or the error. */
const SCRAPER = [
  'import socket, sys',
  'try:',
  "    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)",
  "    s.sendall(b'GET /metrics HTTP/1.1\\r\\nHost: bondscope\\r\\n\\r\\n')",
  "    open(sys.argv[2], 'w').close()",
  "    data = b''",
  '    while True:',
  '        b = s.recv(65536)',
  '        if not b: break',
  '        data += b',
  "    head, _, body = data.partition(b'\\r\\n\\r\\n')",
  "    print(head.split(b'\\r\\n')[0].decode(), body.decode(), end='')",
  'except Exception as e:',
  '    print(type(e).__name__, end="")',
].join('\n');

function scrape(port: number, marker: string): Promise<string> {
  const child = spawn('python3', ['-c', SCRAPER, String(port), marker], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve) => child.once('exit', () => resolve(out)));
}

async function serving(): Promise<{ server: Server; port: number }> {
  const body = 'bondscope_build_info 1\n';
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length, Connection: 'close' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The loop blocked (as by the shutdown's synchronous work) until the scraper has connected and sent its request. */
function blockedUntil(marker: string): void {
  const t0 = Date.now();
  while (!existsSync(marker) && Date.now() - t0 < 20_000) {
    /* blocked */
  }
  expect(existsSync(marker), 'the scraper connected and sent').toBe(true);
}

describe('the metrics endpoint stops listening without cutting a scrape off', () => {
  it('closing the listener at once resets a scrape that connected while the loop was blocked (what the monitor did)', async () => {
    const { server, port } = await serving();
    const marker = join(work, 'at-once');
    const answer = scrape(port, marker);
    blockedUntil(marker);
    NetServer.prototype.close.call(server);
    expect(await answer).toBe('ConnectionResetError');
  });

  it('stopListening: that scrape is answered in full, the next one is refused', async () => {
    const { server, port } = await serving();
    const marker = join(work, 'graceful');
    const answer = scrape(port, marker);
    blockedUntil(marker);
    const served = await stopListening(server);
    expect(await scrape(port, join(work, 'after'))).toBe('ConnectionRefusedError');
    await served();
    expect(await answer).toBe('HTTP/1.1 200 OK bondscope_build_info 1\n');
  });
});
