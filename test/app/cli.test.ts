import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-cli-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('swapdock CLI', () => {
  it('--version prints the package version', () => {
    const { code, stdout } = runCli(['--version']);
    assert.equal(code, 0);
    assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('--help lists the commands', () => {
    const { code, stdout } = runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /swapdock serve/);
    assert.match(stdout, /swapdock check/);
  });

  it('an unknown command exits 2 with a hint', () => {
    const { code, stderr } = runCli(['frobnicate']);
    assert.equal(code, 2);
    assert.match(stderr, /Unknown command 'frobnicate'.*--help/);
  });

  it('check prints the containers it would run, without secret values', () => {
    const file = write('ok.yaml', `models:\n  coder:\n    image: vllm/vllm-openai:v0.11.0\n    gpus: all\n    env: { HF_TOKEN: "\${HF_TOKEN}" }\n    aliases: [c]\n`);
    const { code, stdout } = runCli(['check', '--config', file], { HF_TOKEN: 'hf_very_secret' });
    assert.equal(code, 0);
    assert.match(stdout, /is valid: 1 model/);
    assert.match(stdout, /image: vllm\/vllm-openai:v0.11.0/);
    assert.match(stdout, /name: swapdock-default-coder/);
    assert.match(stdout, /HF_TOKEN/);
    assert.doesNotMatch(stdout, /hf_very_secret/);
    const json = JSON.parse(runCli(['check', '--config', file, '--json'], { HF_TOKEN: 'x' }).stdout);
    assert.deepEqual(json.models[0].container.gpus, { kind: 'all' });
  });

  it('check exits 1 and lists every problem with its path and line', () => {
    const file = write('bad.yaml', `listen: 8080\nmodels:\n  a:\n    image: x\n    gpu: all\n`);
    const { code, stderr } = runCli(['check', '--config', file]);
    assert.equal(code, 1);
    assert.match(stderr, /2 problems/);
    assert.match(stderr, /listen \(line 1\)/);
    assert.match(stderr, /models\.a \(line 4\): unknown key 'gpu'/);
  });

  it('check says when the file is missing', () => {
    const { code, stderr } = runCli(['check', '--config', path.join(dir, 'nope.yaml')]);
    assert.equal(code, 1);
    assert.match(stderr, /does not exist/);
  });
});
