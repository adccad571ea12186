// A FAKE of the Telegram Bot API (the real one cannot be reached from a test): only sendMessage,
// built from its documentation (https://core.telegram.org/bots/api#making-requests and
// #sendmessage). Requests are POST /bot<token>/<method> with a JSON body; every answer is JSON
// {ok: true, result} or {ok: false, error_code, description}; an unknown token is 401
// "Unauthorized", an unknown chat 400 "Bad Request: chat not found", text must be 1-4096
// characters, and a flood is 429 with parameters.retry_after.
'use strict';
const http = require('node:http');

async function fakeTelegram({ token, chatId }) {
  const messages = [];
  let failNext = 0;
  let nextId = 1;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const answer = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url);
      if (req.method !== 'POST' || !m) return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (m[1] !== token) return answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      if (m[2] !== 'sendMessage') return answer(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, { ok: false, error_code: 400, description: 'Bad Request: can\'t parse JSON' });
      }
      if (failNext > 0) {
        failNext--;
        return answer(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
      }
      if (String(body.chat_id) !== String(chatId)) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
      if (typeof body.text !== 'string' || body.text.length < 1 || body.text.length > 4096) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
      const message = { message_id: nextId++, from: { id: 1, is_bot: true, first_name: 'Stablegate test bot' }, chat: { id: Number(chatId), type: 'private' }, date: Math.floor(Date.now() / 1000), text: body.text };
      messages.push(message);
      answer(200, { ok: true, result: message });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    messages,
    /** Answers the next `n` sendMessage calls 429 Too Many Requests. */
    failNext: (n) => { failNext = n; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

module.exports = { fakeTelegram };
