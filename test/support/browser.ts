// A page file opened in Debian's Chromium, headless, as a reader opens it:
// what its console and the browser said was wrong, what it tried to fetch,
// and a screenshot. Chromium is driven through the DevTools protocol over a
// pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte on file
// descriptors 3 and 4), so no client library is needed. Every fetch goes
// through a proxy that refuses it, so a page that reaches out fails here
// as it would offline.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

export interface PageVisit {
  /** Console errors, uncaught exceptions and the browser's own error entries (a blocked or failed load). */
  errors: string[];
  /** Every URL the page asked for, itself aside. */
  requests: string[];
  /** The viewport as drawn, a PNG. */
  screenshot: Buffer;
}

export interface VisitOptions {
  width?: number;
  height?: number;
  /** Killed past this many milliseconds. */
  timeoutMs?: number;
}

export const CHROMIUM = 'chromium';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, any>;
  result?: Record<string, any>;
  error?: { message: string };
  sessionId?: string;
}

/** One DevTools connection over the pipe: calls that answer, and events by name. */
class DevTools {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (result: Record<string, any>) => void; reject: (err: Error) => void }>();
  private readonly listeners = new Map<string, ((params: Record<string, any>) => void)[]>();
  private buffered = '';

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      const parts = (this.buffered + chunk).split('\0');
      this.buffered = parts.pop() ?? '';
      for (const part of parts) this.receive(JSON.parse(part) as Message);
    });
  }

  private receive(message: Message): void {
    if (message.id !== undefined) {
      const call = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error) call?.reject(new Error(message.error.message));
      else call?.resolve(message.result ?? {});
      return;
    }
    for (const listener of this.listeners.get(message.method ?? '') ?? []) listener(message.params ?? {});
  }

  call(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, any>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.input.write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  }

  on(method: string, listener: (params: Record<string, any>) => void): void {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), listener]);
  }

  failAll(err: Error): void {
    for (const call of this.waiting.values()) call.reject(err);
    this.waiting.clear();
  }
}

const remoteText = (value: { value?: unknown; description?: string }) => (value.value !== undefined ? String(value.value) : (value.description ?? ''));

export async function visitPage(file: string, options: VisitOptions = {}): Promise<PageVisit> {
  const { width = 1280, height = 1600, timeoutMs = 60_000 } = options;
  const profile = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-chromium-'));
  const chromium = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      // Port 9 (discard) on loopback: nothing listens, every fetch is refused.
      '--proxy-server=127.0.0.1:9',
      '--proxy-bypass-list=<-loopback>',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      `--window-size=${width},${height}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  chromium.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const devtools = new DevTools(chromium.stdio[3] as Writable, chromium.stdio[4] as Readable);
  const exited = new Promise<void>((resolve) => chromium.once('close', () => resolve()));
  chromium.once('error', (err) => devtools.failAll(new Error(`${CHROMIUM}: ${err.message}`)));
  chromium.once('close', (code) => devtools.failAll(new Error(`${CHROMIUM} exited (${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`)));
  const timer = setTimeout(() => {
    devtools.failAll(new Error(`${CHROMIUM}: ${file} not loaded and drawn in ${timeoutMs} ms`));
    chromium.kill('SIGKILL');
  }, timeoutMs);

  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const requests: string[] = [];
  try {
    const { targetId } = await devtools.call('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await devtools.call('Target.attachToTarget', { targetId, flatten: true });
    const page = (method: string, params: Record<string, unknown> = {}) => devtools.call(method, params, sessionId);
    devtools.on('Runtime.consoleAPICalled', (p) => {
      if (p.type === 'error' || p.type === 'assert') errors.push(`console.${p.type}: ${(p.args as { value?: unknown; description?: string }[]).map(remoteText).join(' ')}`);
    });
    // The exception's first line: the stack below it names only the page.
    devtools.on('Runtime.exceptionThrown', (p) => errors.push(`uncaught: ${String(p.exceptionDetails.exception?.description ?? p.exceptionDetails.text).split('\n')[0]}`));
    devtools.on('Log.entryAdded', (p) => {
      if (p.entry.level === 'error') errors.push(`${p.entry.source}: ${p.entry.text}${p.entry.url ? ` (${p.entry.url})` : ''}`);
    });
    devtools.on('Network.requestWillBeSent', (p) => {
      if (p.request.url !== url) requests.push(p.request.url);
    });
    const loaded = new Promise<void>((resolve) => devtools.on('Page.loadEventFired', () => resolve()));
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await page(`${domain}.enable`);
    await page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    const navigated = await page('Page.navigate', { url });
    if (navigated.errorText) throw new Error(`${CHROMIUM}: ${url}: ${navigated.errorText}`);
    await loaded;
    const { data } = await page('Page.captureScreenshot', { format: 'png' });
    await devtools.call('Browser.close').catch(() => undefined);
    return { errors, requests, screenshot: Buffer.from(data as string, 'base64') };
  } finally {
    clearTimeout(timer);
    if (chromium.exitCode === null && chromium.signalCode === null) chromium.kill('SIGKILL');
    await exited;
    await fs.promises.rm(profile, { recursive: true, force: true });
  }
}
