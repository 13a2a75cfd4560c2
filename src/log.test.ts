import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServerLog } from './log';

test('JSON lines by default, text with format = "text", and reopen() starts a new file after a rotation', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-log-'));
  try {
    const jsonFile = path.join(dir, 'json.log');
    const json = await createServerLog({ level: 'info', format: 'auto', file: jsonFile });
    json.log.info({ key: 'k1' }, 'first');
    fs.renameSync(jsonFile, `${jsonFile}.1`);
    json.reopen();
    json.log.info({ key: 'k2' }, 'second');
    assert.deepEqual(JSON.parse(fs.readFileSync(`${jsonFile}.1`, 'utf8')).key, 'k1');
    const after = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    assert.deepEqual([after.msg, after.key, after.service], ['second', 'k2', 'strata']);

    const textFile = path.join(dir, 'text.log');
    (await createServerLog({ level: 'info', format: 'text', file: textFile })).log.warn({ key: 'k3' }, 'readable');
    const text = fs.readFileSync(textFile, 'utf8');
    assert.match(text, /WARN.*readable/);
    assert.match(text, /key: "k3"/);
    assert.throws(() => JSON.parse(text));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
