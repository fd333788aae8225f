// A minimal OpenAI-compatible upstream for bench/load.sh: answers POST /v1/chat/completions at once with a fixed
// completion (JSON), or with a fixed SSE stream when the body has "stream": true; GET /v1/models lists one model.
// Usage: node bench/mock-upstream.mjs <port>   (listens on 127.0.0.1 only)
import http from 'node:http';

const port = Number(process.argv[2] ?? 9700);
const completion = JSON.stringify({
  id: 'chatcmpl-mock',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 25, completion_tokens: 9, total_tokens: 34 },
});
const words = ['Hello! ', 'How ', 'can ', 'I ', 'help ', 'you ', 'today?'];
const chunk = (delta, finish) => 'data: ' + JSON.stringify({
  id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finish ?? null }],
}) + '\n\n';
const stream = chunk({ role: 'assistant', content: '' })
  + words.map((w) => chunk({ content: w })).join('')
  + chunk({}, 'stop')
  + 'data: ' + JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 25, completion_tokens: 9, total_tokens: 34 } }) + '\n\n'
  + 'data: [DONE]\n\n';
const models = JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1700000000, owned_by: 'mock' }] });
const streamFlag = /"stream"\s*:\s*true/;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url.endsWith('/models')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(models);
    return;
  }
  if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
    return;
  }
  const parts = [];
  let size = 0;
  req.on('data', (d) => {
    size += d.length;
    if (size <= 8 * 1024 * 1024) parts.push(d);
  });
  req.on('end', () => {
    if (streamFlag.test(Buffer.concat(parts).toString('utf8'))) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(stream);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion);
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`mock upstream on http://127.0.0.1:${port}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
