// The real Claude Code CLI (print mode) through swapdock to OpenAI-only containers on Docker and
// Podman: its /v1/messages requests (streamed, with its whole tool set) are translated to chat
// completions and back. A plain answer, and a tool round trip: the backend calls Claude Code's
// `Read` tool on a file in the working directory, and the next request carries the file's content.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { claudeVersion, describeRun, requireClaude, runClaude } from '../support/claude-code.js';
import { backendRequests, chatRequests } from '../support/clients.js';
import { useSwapdockOnEngine } from '../support/engine-harness.js';

const SECRET = 'the secret word is swordfish';

function models(notesPath: string): string {
  const readArgs = JSON.stringify(JSON.stringify({ file_path: notesPath }));
  // `fallback` absorbs the other model names Claude Code uses for background work.
  return `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
fallback: plain
models:
  plain: { image: {{IMAGE}}, pull: never, upstreamModel: org/plain-7b, env: { FAKE_TOOL_NAME: "-" } }
  reader: { image: {{IMAGE}}, pull: never, env: { FAKE_TOOL_NAME: Read, FAKE_TOOL_ARGS: ${readArgs} } }
`;
}

const toolNames = (body: any): string[] => (body.tools ?? []).map((t: any) => t.function?.name);

for (const engine of ['docker', 'podman'] as const) describe(`Claude Code ${claudeVersion()} on ${engine}`, () => {
  const work = mkdtempSync(path.join(tmpdir(), `swapdock-claude-work-${engine}-`));
  const notes = path.join(work, 'notes.txt');
  writeFileSync(notes, `${SECRET}\n`);
  const fixture = useSwapdockOnEngine(engine, models(notes));
  before(async () => {
    await requireClaude();
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('answers a prompt from an api: openai model (claude -p)', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const run = await runClaude({ baseUrl: fixture.sd.url, model: 'plain', prompt: 'say hi', cwd: work });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /Hello from fake-model \(model=org\/plain-7b\)/, describeRun(run));

    const sent = chatRequests(await backendRequests(fixture.sd, 'plain'));
    const main = sent.find((r) => JSON.stringify(r.body.messages).includes('say hi'));
    assert.ok(main, `the prompt reached the backend as a chat completion (saw ${sent.length} chat requests)`);
    assert.equal(main.body.model, 'org/plain-7b');
    assert.equal(main.body.stream, true, 'Claude Code streams; the translation streams too');
    assert.ok(toolNames(main.body).includes('Read'), 'Claude Code\'s tools arrive as OpenAI functions');
  });

  it('completes a tool round trip: the backend calls Read, the file content comes back', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const run = await runClaude({
      baseUrl: fixture.sd.url,
      model: 'reader',
      prompt: 'What does notes.txt say?',
      cwd: work,
      args: ['--allowedTools', 'Read'],
    });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /Hello from fake-model \(model=reader\)/, describeRun(run));

    const sent = chatRequests(await backendRequests(fixture.sd, 'reader'));
    const callIndex = sent.findIndex((r) => toolNames(r.body).includes('Read') && !r.body.messages.some((m: any) => m.role === 'tool'));
    assert.ok(callIndex >= 0, 'a request offering Read was answered with the tool call');
    const followUp = sent.slice(callIndex + 1).find((r) => r.body.messages.some((m: any) => m.role === 'tool'));
    assert.ok(followUp, `Claude Code sent the tool result back (saw ${sent.length} chat requests)`);
    const assistant = followUp.body.messages.find((m: any) => m.role === 'assistant' && m.tool_calls?.length);
    assert.equal(assistant?.tool_calls[0].function.name, 'Read');
    assert.deepEqual(JSON.parse(assistant.tool_calls[0].function.arguments), { file_path: notes });
    const result = followUp.body.messages.find((m: any) => m.role === 'tool');
    assert.equal(result.tool_call_id, assistant.tool_calls[0].id, 'the result answers that call');
    assert.match(JSON.stringify(result.content), /swordfish/, 'the file content came back to the backend');
  });
});
