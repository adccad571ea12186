// What the compatibility suites need besides test/helpers.js: the pinned PyPI clients in a venv
// under .tools/, a test CA with a certificate for 127.0.0.1 (the bepusdt client refuses http://),
// a TLS terminator in front of the server, an https receiver of callbacks, and signing done the
// way a panel does it (node:crypto's MD5, not the server's code).
'use strict';
const crypto = require('node:crypto');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const VENV = path.join(ROOT, '.tools', 'compat-venv');
const REQUIREMENTS = path.join(__dirname, 'compat-requirements.txt');

/** Creates .tools/compat-venv with the pinned clients, once per change of the requirements file. */
function ensureVenv() {
  const marker = path.join(VENV, 'requirements.sha256');
  const wanted = crypto.createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted) return;
  fs.rmSync(VENV, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '-r', REQUIREMENTS], { stdio: 'inherit' });
  fs.writeFileSync(marker, wanted);
}

/** A CA and a server certificate for 127.0.0.1 and localhost it signed, as PEM files in `dir`. */
function makeCa(dir) {
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Stablegate compat test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', file('tls.key'), '-out', file('tls.csr'), '-subj', '/CN=localhost');
  fs.writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', file('tls.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('tls.pem'), '-days', '2', '-extfile', file('ext.cnf'));
  return { ca: file('ca.pem'), key: fs.readFileSync(file('tls.key')), cert: fs.readFileSync(file('tls.pem')) };
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const closeServer = (server) => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });

/** An https front for `target` (http://127.0.0.1:PORT), as a reverse proxy terminating TLS would be. */
async function tlsProxy(tls, target) {
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const upstream = http.request(new URL(req.url, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return { url: `https://127.0.0.1:${await listen(server)}`, close: () => closeServer(server) };
}

/**
 * An https receiver of callbacks: records each request, answers `answer(request)` (default
 * `ok`, as Epusdt panels do; EPay panels answer `success`).
 */
async function callbackReceiver(tls) {
  const received = [];
  let answer = (r) => (r.method === 'GET' ? 'success' : 'ok');
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(request);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(answer(request));
    });
  });
  const port = await listen(server);
  const base = `https://127.0.0.1:${port}`;
  return {
    base,
    received,
    /** The requests whose URL or body mentions `text` (an order id). */
    about: (text) => received.filter((r) => r.url.includes(encodeURIComponent(text)) || r.body.includes(`"${text}"`)),
    answerWith: (fn) => { answer = fn; },
    async waitFor(test, timeoutMs = 20000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const found = received.find(test);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no such callback within ${timeoutMs} ms`);
    },
    close: () => closeServer(server),
  };
}

/** Runs a command of test/compat_clients.py with `args`, trusting the test CA; resolves its JSON answer. */
function python(command, args, caFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(VENV, 'bin', 'python'), [path.join(__dirname, 'compat_clients.py'), command], {
      env: { ...process.env, REQUESTS_CA_BUNDLE: caFile, SSL_CERT_FILE: caFile },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`compat_clients.py ${command} exited ${code}: ${err}`));
      resolve(JSON.parse(out));
    });
    child.stdin.end(JSON.stringify(args));
  });
}

/** MD5 signature as panels compute it: sorted k=v of non-empty fields except the excluded ones, then the secret. */
function panelSign(fields, secret, excluded = ['signature', 'sign', 'sign_type']) {
  const text = Object.keys(fields)
    .filter((k) => !excluded.includes(k) && fields[k] !== '' && fields[k] !== null && fields[k] !== undefined)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
  return crypto.createHash('md5').update(text + secret).digest('hex');
}

module.exports = { ensureVenv, makeCa, tlsProxy, callbackReceiver, python, panelSign, VENV };
