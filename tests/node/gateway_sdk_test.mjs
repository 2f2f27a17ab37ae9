// The official SDKs against `llmpool serve` -> `llmpool mock`. Usage:
//   node gateway_sdk_test.mjs /path/to/llmpool
// Exit 0: every scenario passed; 1: a scenario failed.

import assert from 'node:assert/strict';
import { test, after, before } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { startGateway, startMock, stop } from './harness.mjs';

const binary = process.argv[2] ?? process.env.LLMPOOL_BINARY;
if (!binary) {
  console.error('usage: node gateway_sdk_test.mjs /path/to/llmpool');
  process.exit(2);
}

const KEY = 'sk-gateway-test-key';
let mock;
let slowMock;
let gateway;
let tightGateway;
let claudeGateway;

before(async () => {
  mock = await startMock(binary);
  slowMock = await startMock(binary, ['--latency', '1500ms']);
  gateway = await startGateway(binary, { mockPort: mock.port, keys: [KEY] });
  // One request at a time and no waiting room: a second concurrent request is refused (429).
  tightGateway = await startGateway(binary, {
    mockPort: slowMock.port,
    keys: [KEY],
    pool: { max_concurrent_requests: 1, max_queue: 0 },
  });
  // An Anthropic-dialect provider behind the alias: Anthropic clients get its own events.
  claudeGateway = await startGateway(binary, { mockPort: mock.port, keys: [KEY], kind: 'anthropic' });
});

after(async () => {
  for (const p of [gateway, tightGateway, claudeGateway, mock, slowMock]) if (p) await stop(p.child);
});

function openai(port, apiKey = KEY) {
  return new OpenAI({ apiKey, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, timeout: 10000 });
}

function anthropic(port, apiKey = KEY) {
  return new Anthropic({ apiKey, baseURL: `http://127.0.0.1:${port}`, maxRetries: 0, timeout: 10000 });
}

test('openai: non-streaming completion, with the attempt headers', { timeout: 15000 }, async () => {
  const { data, response } = await openai(gateway.port)
    .chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }] })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.content, 'mock reply: hello there');
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(data.usage.total_tokens > 0);
  assert.equal(response.headers.get('x-llmpool-deployment'), 'mock/mock-model');
  assert.equal(response.headers.get('x-llmpool-attempts'), '1');
});

test('openai: logprobs the provider returns reach the SDK, streamed or not', { timeout: 15000 }, async () => {
  const data = await openai(gateway.port).chat.completions.create({
    model: 'chat', messages: [{ role: 'user', content: 'a b' }], logprobs: true,
  });
  const tokens = data.choices[0].logprobs.content.map((entry) => entry.token);
  assert.equal(tokens.join(''), 'mock reply: a b');
  // Streamed: each content chunk brings the logprobs of its own piece.
  const stream = await openai(gateway.port).chat.completions.create({
    model: 'chat', messages: [{ role: 'user', content: 'a b' }], logprobs: true, stream: true,
  });
  let streamed = '';
  for await (const chunk of stream) {
    for (const entry of chunk.choices[0]?.logprobs?.content ?? []) streamed += entry.token;
  }
  assert.equal(streamed, 'mock reply: a b');
});

test('openai: streaming completion read chunk by chunk', { timeout: 15000 }, async () => {
  const stream = await openai(gateway.port).chat.completions.create({
    model: 'chat',
    messages: [{ role: 'user', content: 'one two three four' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let contentChunks = 0;
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta?.content) {
        text += choice.delta.content;
        contentChunks += 1;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(text, 'mock reply: one two three four');
  assert.ok(contentChunks >= 4, `expected one chunk per word, got ${contentChunks}`);
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0, 'usage chunk expected with include_usage');
});

test('openai: streaming without include_usage sends no usage chunk', { timeout: 15000 }, async () => {
  const stream = await openai(gateway.port).chat.completions.create({
    model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true,
  });
  for await (const chunk of stream) assert.ok(!chunk.usage, 'no usage expected');
});

// The Responses API, served statelessly through the chat path: by an OpenAI-dialect provider
// (gateway) and by an Anthropic one (claudeGateway), whose replies are translated.
for (const [name, port] of [['openai provider', () => gateway.port],
  ['anthropic provider', () => claudeGateway.port]]) {
  test(`openai responses: non-streaming, ${name}`, { timeout: 15000 }, async () => {
    const { data, response } = await openai(port())
      .responses.create({ model: 'chat', instructions: 'Be brief.', input: 'hello there' })
      .withResponse();
    assert.equal(data.object, 'response');
    assert.equal(data.status, 'completed');
    assert.ok(data.id.startsWith('resp_'));
    assert.equal(data.output_text, 'mock reply: hello there');
    assert.equal(data.output[0].type, 'message');
    assert.equal(data.instructions, 'Be brief.');
    assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.input_tokens + data.usage.output_tokens);
    assert.equal(response.headers.get('x-llmpool-attempts'), '1');
  });

  test(`openai responses: streamed through the SDK's stream helper, ${name}`, { timeout: 15000 },
    async () => {
      // The helper rebuilds the Response from the events and throws on any out of order.
      const stream = openai(port()).responses.stream({
        model: 'chat',
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'one two three four' }] }],
      });
      let deltas = '';
      let pieces = 0;
      const seen = new Set();
      for await (const event of stream) {
        seen.add(event.type);
        if (event.type === 'response.output_text.delta') {
          deltas += event.delta;
          pieces += 1;
        }
      }
      const final = await stream.finalResponse();
      assert.equal(deltas, 'mock reply: one two three four');
      assert.ok(pieces >= 4, `expected one delta per word, got ${pieces}`);
      // (The helper's final Response has no output_text convenience; the items carry the text.)
      const finalText = final.output.filter((item) => item.type === 'message')
        .flatMap((item) => item.content).map((part) => part.text).join('');
      assert.equal(finalText, deltas);
      assert.equal(final.status, 'completed');
      assert.ok(final.usage.output_tokens > 0);
      for (const type of ['response.created', 'response.output_item.added',
        'response.content_part.added', 'response.output_text.done', 'response.output_item.done',
        'response.completed']) assert.ok(seen.has(type), `no ${type} event`);
    });
}

// Tool use end to end: the mock calls the first offered tool with {"input": <the question>}
// and answers a tool result with "mock reply: <result>" (docs/mock.md). Through both providers,
// so the calls are translated between dialects on the way out and back.
const lookupTool = {
  type: 'function',
  function: { name: 'lookup', description: 'Looks it up', parameters: { type: 'object',
    properties: { input: { type: 'string' } }, required: ['input'] } },
};
const claudeLookupTool = {
  name: 'lookup', description: 'Looks it up',
  input_schema: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] },
};

for (const [name, port] of [['openai provider', () => gateway.port],
  ['anthropic provider', () => claudeGateway.port]]) {
  test(`openai tools: a call, streamed and not, then its result, ${name}`, { timeout: 15000 },
    async () => {
      const client = openai(port());
      const messages = [{ role: 'user', content: 'weather in Oslo' }];
      const whole = await client.chat.completions.create({ model: 'chat', messages, tools: [lookupTool] });
      const call = whole.choices[0].message.tool_calls?.[0];
      assert.ok(call, JSON.stringify(whole));
      assert.equal(whole.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'lookup');
      assert.deepEqual(JSON.parse(call.function.arguments), { input: 'weather in Oslo' });
      // The stream helper assembles the call from its deltas.
      const stream = client.chat.completions.stream({ model: 'chat', messages, tools: [lookupTool] });
      const streamed = (await stream.finalChatCompletion()).choices[0];
      assert.equal(streamed.finish_reason, 'tool_calls');
      assert.equal(streamed.message.tool_calls[0].function.name, 'lookup');
      assert.deepEqual(JSON.parse(streamed.message.tool_calls[0].function.arguments),
        { input: 'weather in Oslo' });
      const answer = await client.chat.completions.create({
        model: 'chat', tools: [lookupTool],
        messages: [...messages, whole.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: '4 degrees' }],
      });
      assert.equal(answer.choices[0].message.content, 'mock reply: 4 degrees');
    });

  test(`anthropic tools: a tool_use block, streamed and not, then its result, ${name}`,
    { timeout: 15000 }, async () => {
      const client = anthropic(port());
      const messages = [{ role: 'user', content: 'weather in Oslo' }];
      const msg = await client.messages.create({
        model: 'chat', max_tokens: 64, messages, tools: [claudeLookupTool],
      });
      assert.equal(msg.stop_reason, 'tool_use');
      const use = msg.content.find((block) => block.type === 'tool_use');
      assert.ok(use, JSON.stringify(msg));
      assert.equal(use.name, 'lookup');
      assert.deepEqual(use.input, { input: 'weather in Oslo' });
      // The stream helper parses the input_json_delta pieces back into the input.
      const final = await client.messages.stream({
        model: 'chat', max_tokens: 64, messages, tools: [claudeLookupTool],
      }).finalMessage();
      assert.equal(final.stop_reason, 'tool_use');
      const streamedUse = final.content.find((block) => block.type === 'tool_use');
      assert.deepEqual(streamedUse.input, { input: 'weather in Oslo' });
      const answer = await client.messages.create({
        model: 'chat', max_tokens: 64, tools: [claudeLookupTool],
        messages: [...messages, { role: 'assistant', content: msg.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '4 degrees' }] }],
      });
      assert.equal(answer.content[0].text, 'mock reply: 4 degrees');
    });

  test(`openai responses tools: a function_call item, streamed and not, then its output, ${name}`,
    { timeout: 15000 }, async () => {
      const client = openai(port());
      const tools = [{ type: 'function', name: 'lookup', description: 'Looks it up',
        parameters: lookupTool.function.parameters, strict: false }];
      const first = await client.responses.create({ model: 'chat', input: 'weather in Oslo', tools });
      const call = first.output.find((item) => item.type === 'function_call');
      assert.ok(call, JSON.stringify(first));
      assert.equal(call.name, 'lookup');
      assert.deepEqual(JSON.parse(call.arguments), { input: 'weather in Oslo' });
      const stream = client.responses.stream({ model: 'chat', input: 'weather in Oslo', tools });
      let argumentDeltas = '';
      for await (const event of stream) {
        if (event.type === 'response.function_call_arguments.delta') argumentDeltas += event.delta;
      }
      const streamedCall = (await stream.finalResponse()).output
        .find((item) => item.type === 'function_call');
      assert.equal(streamedCall.arguments, argumentDeltas);
      assert.deepEqual(JSON.parse(streamedCall.arguments), { input: 'weather in Oslo' });
      const answer = await client.responses.create({
        model: 'chat', tools,
        input: [{ role: 'user', content: 'weather in Oslo' }, call,
          { type: 'function_call_output', call_id: call.call_id, output: '4 degrees' }],
      });
      assert.equal(answer.output_text, 'mock reply: 4 degrees');
    });
}

test('openai responses: what needs stored responses -> BadRequestError naming it', { timeout: 15000 },
  async () => {
    await assert.rejects(
      openai(gateway.port).responses.create({
        model: 'chat', input: 'again', previous_response_id: 'resp_123',
      }),
      (err) => err instanceof OpenAI.BadRequestError && err.param === 'previous_response_id' &&
        /keeps no responses/.test(err.message),
    );
    await assert.rejects(
      openai(gateway.port).responses.create({ model: 'no-such-model', input: 'x' }),
      (err) => err instanceof OpenAI.NotFoundError,
    );
  });

test('openai: embeddings (SDK default base64, and float)', { timeout: 15000 }, async () => {
  const client = openai(gateway.port);
  const byDefault = await client.embeddings.create({ model: 'embed', input: ['a', 'b'] });
  assert.equal(byDefault.data.length, 2);
  assert.equal(byDefault.data[0].embedding.length, 8);
  assert.ok(byDefault.data[0].embedding.every((x) => Number.isFinite(x)));
  const floats = await client.embeddings.create({
    model: 'embed', input: 'a', encoding_format: 'float',
  });
  assert.deepEqual(floats.data[0].embedding.map((x) => x.toFixed(5)),
    byDefault.data[0].embedding.map((x) => x.toFixed(5)));
});

test('openai: models lists the aliases', { timeout: 15000 }, async () => {
  const ids = [];
  const now = Date.now() / 1000;
  for await (const m of openai(gateway.port).models.list()) {
    ids.push(m.id);
    assert.ok(Math.abs(m.created - now) < 3600, `created ${m.created}`);
  }
  assert.deepEqual(ids.sort(), ['chat', 'embed']);
  const one = await openai(gateway.port).models.retrieve('chat');
  assert.equal(one.id, 'chat');
});

test('anthropic: models lists the aliases', { timeout: 15000 }, async () => {
  const models = [];
  for await (const m of anthropic(gateway.port).models.list()) models.push(m);
  assert.deepEqual(models.map((m) => m.id).sort(), ['chat', 'embed']);
  for (const m of models) {
    assert.equal(m.type, 'model');
    assert.equal(m.display_name, m.id);
    assert.ok(Math.abs(Date.parse(m.created_at) - Date.now()) < 3600e3, m.created_at);
  }
  const one = await anthropic(gateway.port).models.retrieve('chat');
  assert.equal(one.type, 'model');
  assert.equal(one.id, 'chat');
});

test('openai: unknown model -> NotFoundError', { timeout: 15000 }, async () => {
  await assert.rejects(
    openai(gateway.port).chat.completions.create({
      model: 'no-such-model', messages: [{ role: 'user', content: 'x' }],
    }),
    (err) => err instanceof OpenAI.NotFoundError && err.status === 404,
  );
});

test('openai: bad key -> AuthenticationError', { timeout: 15000 }, async () => {
  await assert.rejects(
    openai(gateway.port, 'sk-wrong').chat.completions.create({
      model: 'chat', messages: [{ role: 'user', content: 'x' }],
    }),
    (err) => err instanceof OpenAI.AuthenticationError && err.status === 401,
  );
});

test('openai: bad request -> BadRequestError', { timeout: 15000 }, async () => {
  await assert.rejects(
    openai(gateway.port).chat.completions.create({ model: 'chat', messages: [] }),
    (err) => err instanceof OpenAI.BadRequestError && err.status === 400,
  );
});

test('openai: overloaded gateway -> RateLimitError with Retry-After', { timeout: 20000 }, async () => {
  const client = openai(tightGateway.port);
  const slow = client.chat.completions.create({
    model: 'chat', messages: [{ role: 'user', content: 'slow one' }],
  });
  // Let the first request take the only permit before the second arrives.
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(
    client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'two' }] }),
    (err) => err instanceof OpenAI.RateLimitError && err.status === 429 &&
      err.headers.get('retry-after') !== null,
  );
  const first = await slow;
  assert.equal(first.choices[0].message.content, 'mock reply: slow one');
});

test('openai: a spent key budget -> RateLimitError insufficient_quota, not retried', { timeout: 20000 },
  async () => {
    const budgeted = await startGateway(binary, { mockPort: mock.port, keys: [KEY], budgetUsd: 1 });
    try {
      // The SDK's own retry policy (2 retries) is on: x-should-retry: false must stop it.
      const client = new OpenAI({
        apiKey: KEY, baseURL: `http://127.0.0.1:${budgeted.port}/v1`, timeout: 10000,
      });
      const ask = () => client.chat.completions.create({
        model: 'chat', messages: [{ role: 'user', content: 'hello' }],
      });
      await ask();  // spends the whole $1 budget
      await assert.rejects(ask(), (err) => err instanceof OpenAI.RateLimitError &&
        err.status === 429 && err.code === 'insufficient_quota' && /budget/.test(err.message));
      const metrics = await (await fetch(`http://127.0.0.1:${budgeted.port}/metrics`)).text();
      assert.match(metrics,
        /llmpool_gateway_requests_total\{route="\/v1\/chat\/completions",status="429"\} 1\n/);
    } finally {
      await stop(budgeted.child);
    }
  });

test('anthropic: non-streaming message', { timeout: 15000 }, async () => {
  const msg = await anthropic(gateway.port).messages.create({
    model: 'chat', max_tokens: 64, messages: [{ role: 'user', content: 'hello claude' }],
  });
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.content[0].type, 'text');
  assert.equal(msg.content[0].text, 'mock reply: hello claude');
  assert.equal(msg.stop_reason, 'end_turn');
  assert.ok(msg.usage.output_tokens > 0);
});

test('anthropic: streaming message', { timeout: 15000 }, async () => {
  const stream = anthropic(gateway.port).messages.stream({
    model: 'chat', max_tokens: 64, messages: [{ role: 'user', content: 'stream me please' }],
  });
  let deltas = 0;
  let startInput = -1;
  stream.on('text', () => { deltas += 1; });
  stream.on('streamEvent', (event) => {
    if (event.type === 'message_start') startInput = event.message.usage.input_tokens;
  });
  const final = await stream.finalMessage();
  // Translated from an OpenAI-dialect provider: message_start carries an estimate, not 0.
  assert.ok(startInput > 0, `message_start input_tokens ${startInput}`);
  assert.equal(final.content[0].text, 'mock reply: stream me please');
  assert.ok(deltas >= 3, `expected several text deltas, got ${deltas}`);
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(final.usage.output_tokens > 0);
});

test('anthropic: an OpenAI-dialect reasoning server\'s reasoning arrives as thinking', { timeout: 15000 },
  async () => {
    const client = anthropic(gateway.port);  // the mock behind it speaks OpenAI's dialect
    const ask = {
      model: 'chat', max_tokens: 64, thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'why?' }],
    };
    const whole = await client.messages.create(ask);
    assert.equal(whole.content[0].type, 'thinking');
    assert.equal(whole.content[0].thinking, 'mock thinking (earlier thinking blocks: 0)');
    assert.equal(whole.content[1].text, 'mock reply: why?');
    let thinkingDeltas = 0;
    const stream = client.messages.stream(ask);
    stream.on('thinking', () => { thinkingDeltas += 1; });
    const final = await stream.finalMessage();
    assert.ok(thinkingDeltas > 0, 'thinking deltas reached the SDK');
    assert.equal(final.content[0].thinking, 'mock thinking (earlier thinking blocks: 0)');
    assert.equal(final.content[1].text, 'mock reply: why?');
  });

test('openai: Claude\'s thinking arrives as reasoning_content', { timeout: 15000 }, async () => {
  const client = openai(claudeGateway.port);
  const ask = {
    model: 'chat', max_tokens: 64, messages: [{ role: 'user', content: 'why?' }],
    thinking: { type: 'enabled', budget_tokens: 1024 },  // Anthropic's switch, passed on
  };
  const whole = await client.chat.completions.create(ask);
  assert.equal(whole.choices[0].message.reasoning_content,
    'mock thinking (earlier thinking blocks: 0)');
  let reasoning = '';
  const stream = await client.chat.completions.create({ ...ask, stream: true });
  for await (const chunk of stream) reasoning += chunk.choices[0]?.delta?.reasoning_content ?? '';
  assert.equal(reasoning, 'mock thinking (earlier thinking blocks: 0)');
});

test('openai responses: a reasoning server\'s reasoning arrives as a reasoning item', { timeout: 15000 },
  async () => {
    const client = openai(gateway.port);  // reasoning.effort reaches the provider as reasoning_effort
    const ask = { model: 'chat', input: 'why?', reasoning: { effort: 'high' } };
    const whole = await client.responses.create(ask);
    assert.equal(whole.output[0].type, 'reasoning');
    assert.equal(whole.output[0].content[0].text, 'mock thinking (earlier thinking blocks: 0)');
    assert.equal(whole.output_text, 'mock reply: why?');
    const stream = client.responses.stream(ask);
    let deltas = 0;
    stream.on('response.reasoning_text.delta', () => { deltas += 1; });
    const final = await stream.finalResponse();
    assert.ok(deltas > 0);
    assert.equal(final.output[0].content[0].text, 'mock thinking (earlier thinking blocks: 0)');
    assert.equal(final.output[1].content[0].text, 'mock reply: why?');  // no output_text here
  });

test('anthropic: streamed thinking, handed back on the next turn', { timeout: 15000 }, async () => {
  const client = anthropic(claudeGateway.port);
  const thinking = { type: 'enabled', budget_tokens: 1024 };
  const question = { role: 'user', content: 'weather in Paris?' };
  const stream = client.messages.stream({
    model: 'chat', max_tokens: 64, thinking, messages: [question],
  });
  const first = await stream.finalMessage();
  assert.equal(first.content[0].type, 'thinking');
  assert.equal(first.content[0].thinking, 'mock thinking (earlier thinking blocks: 0)');
  assert.ok(first.content[0].signature.length > 0, 'the signature delta arrived');
  assert.equal(first.content[1].text, 'mock reply: weather in Paris?');
  // The next turn hands the thinking block back, signature and all; the provider sees it.
  const second = await client.messages.create({
    model: 'chat',
    max_tokens: 64,
    thinking,
    messages: [question, { role: 'assistant', content: first.content },
      { role: 'user', content: 'and tomorrow?' }],
  });
  assert.equal(second.content[0].thinking, 'mock thinking (earlier thinking blocks: 1)');
  assert.equal(second.content[1].text, 'mock reply: and tomorrow?');
});

test('anthropic: countTokens, also on the beta path Claude clients use', { timeout: 15000 }, async () => {
  const client = anthropic(gateway.port);
  const few = await client.messages.countTokens({
    model: 'chat', messages: [{ role: 'user', content: 'hi' }],
  });
  assert.ok(few.input_tokens > 0, JSON.stringify(few));
  const more = await client.beta.messages.countTokens({
    model: 'chat',
    system: 'You are a careful assistant.',
    messages: [{ role: 'user', content: 'hi, and then a good deal more to count' }],
  });
  assert.ok(more.input_tokens > few.input_tokens, JSON.stringify(more));
  await assert.rejects(
    client.messages.countTokens({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.NotFoundError && err.status === 404,
  );
});

test('anthropic: bad key -> AuthenticationError', { timeout: 15000 }, async () => {
  await assert.rejects(
    anthropic(gateway.port, 'nope').messages.create({
      model: 'chat', max_tokens: 8, messages: [{ role: 'user', content: 'x' }],
    }),
    (err) => err instanceof Anthropic.AuthenticationError && err.status === 401,
  );
});
