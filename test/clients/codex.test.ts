// The real Codex CLI (`codex exec`) through swapdock to containers that speak only chat
// completions, on Docker and Podman: its /v1/responses requests (streamed, with its whole tool set:
// functions, namespaced tools, web_search) are translated for models with `responses: translate`,
// and the answers back. A plain answer, and a tool round trip: the backend calls Codex's
// `exec_command` to read a file, Codex runs it (read-only sandbox, never asking), and the next
// request carries the output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { codexVersion, describeRun, requireCodex, runCodex } from '../support/codex.js';
import { backendRequests, chatRequests } from '../support/clients.js';
import { useSwapdockOnEngine } from '../support/engine-harness.js';

const SECRET = 'the secret word is swordfish';

const models = () => {
  const readArgs = JSON.stringify(JSON.stringify({ cmd: 'cat notes.txt' }));
  return `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  plain: { image: {{IMAGE}}, pull: never, responses: translate, upstreamModel: org/plain-7b, env: { FAKE_TOOL_NAME: "-" } }
  shell: { image: {{IMAGE}}, pull: never, responses: translate, env: { FAKE_TOOL_NAME: exec_command, FAKE_TOOL_ARGS: ${readArgs} } }
`;
};

const toolNames = (body: any): string[] => (body.tools ?? []).map((t: any) => t.function?.name);

for (const engine of ['docker', 'podman'] as const) describe(`Codex CLI ${codexVersion()} on ${engine}`, () => {
  const work = mkdtempSync(path.join(tmpdir(), `swapdock-codex-work-${engine}-`));
  writeFileSync(path.join(work, 'notes.txt'), `${SECRET}\n`);
  const fixture = useSwapdockOnEngine(engine, models());
  before(async () => {
    await requireCodex();
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('answers a prompt (codex exec) from a model whose container speaks only chat completions', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const run = await runCodex({ baseUrl: fixture.sd.url, model: 'plain', prompt: 'say hi', cwd: work });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /Hello from fake-model \(model=org\/plain-7b\)/, describeRun(run));

    const seen = await backendRequests(fixture.sd, 'plain');
    assert.ok(seen.every((r) => !r.path.startsWith('/v1/responses')), 'the container was never asked for /v1/responses');
    const noResponses = await fetch(`${fixture.sd.url}/upstream/plain/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noResponses.status, 404, 'the container itself has no Responses API');
    const main = chatRequests(seen).find((r) => JSON.stringify(r.body.messages).includes('say hi'));
    assert.ok(main, `the prompt reached the backend as a chat completion (saw ${seen.length} requests)`);
    assert.equal(main.body.model, 'org/plain-7b');
    assert.equal(main.body.stream, true, 'Codex streams; the translation streams too');
    assert.deepEqual(main.body.stream_options, { include_usage: true });
    assert.equal(main.body.messages[0].role, 'system', "Codex's developer messages are the one system message");
    const names = toolNames(main.body);
    assert.ok(names.includes('exec_command'), `Codex's functions arrive as chat functions (${names.join(', ')})`);
    assert.ok(names.some((n) => n.includes('__')), `its namespaced tools arrive flattened (${names.join(', ')})`);
    assert.ok(!names.includes('web_search') && names.every(Boolean), 'web_search is dropped, never sent as a function');
  });

  it('completes a tool round trip: the backend calls exec_command, Codex runs it and sends the output back', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const run = await runCodex({ baseUrl: fixture.sd.url, model: 'shell', prompt: 'What does notes.txt say?', cwd: work });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /Hello from fake-model \(model=shell\)/, describeRun(run));

    const sent = chatRequests(await backendRequests(fixture.sd, 'shell'));
    const callIndex = sent.findIndex((r) => toolNames(r.body).includes('exec_command') && !r.body.messages.some((m: any) => m.role === 'tool'));
    assert.ok(callIndex >= 0, 'a request offering exec_command was answered with the tool call');
    const followUp = sent.slice(callIndex + 1).find((r) => r.body.messages.some((m: any) => m.role === 'tool'));
    assert.ok(followUp, `Codex sent the command's output back (saw ${sent.length} chat requests)`);
    const assistant = followUp.body.messages.find((m: any) => m.role === 'assistant' && m.tool_calls?.length);
    assert.equal(assistant?.tool_calls[0].function.name, 'exec_command');
    assert.deepEqual(JSON.parse(assistant.tool_calls[0].function.arguments), { cmd: 'cat notes.txt' });
    const result = followUp.body.messages.find((m: any) => m.role === 'tool');
    assert.equal(result.tool_call_id, assistant.tool_calls[0].id, 'the output answers that call (function_call_output → tool message)');
    assert.match(JSON.stringify(result.content), /swordfish/, "the file's content came back to the backend");
  });
});
