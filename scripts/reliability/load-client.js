'use strict';
/*
 * The second process of the rotation reliability run: keeps a steady load on
 * a service over mTLS until told to stop, and reports what it saw.
 *
 * Forked with IPC. Receives { port, ca, cert, key, path, keepAliveWorkers, newConnectionWorkers }
 * (PEM strings), then 'stop'. Sends { type: 'serial', serial, at } for the
 * server certificate of each new connection, { type: 'failure', what, at }
 * for each failed request, and at the end { type: 'totals', ... }.
 */
const { Agent, request } = require('node:https');

let stopping = false;
const totals = { keepAliveOk: 0, newConnectionOk: 0, failed: 0, failures: {} };

function once(config, agent) {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: config.port, path: config.path, servername: 'localhost', ca: config.ca, cert: config.cert, key: config.key, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? null : `status ${res.statusCode}`));
        res.on('error', (err) => resolve(err.code || err.message));
      },
    );
    if (agent === false) {
      req.on('socket', (socket) =>
        socket.once('secureConnect', () => {
          const serial = socket.getPeerCertificate().serialNumber;
          if (serial) process.send({ type: 'serial', serial: serial.toUpperCase(), at: Date.now() });
        }),
      );
    }
    req.on('error', (err) => resolve(err.code || err.message));
    req.end();
  });
}

async function worker(config, agent, counter) {
  while (!stopping) {
    const failure = await once(config, agent);
    if (failure === null) totals[counter]++;
    else {
      totals.failed++;
      totals.failures[failure] = (totals.failures[failure] ?? 0) + 1;
      process.send({ type: 'failure', what: failure, at: Date.now() });
    }
  }
}

process.on('message', async (message) => {
  if (message === 'stop') {
    stopping = true;
    return;
  }
  const config = message;
  const agent = new Agent({ keepAlive: true, maxSockets: config.keepAliveWorkers });
  const workers = [];
  for (let i = 0; i < config.keepAliveWorkers; i++) workers.push(worker(config, agent, 'keepAliveOk'));
  for (let i = 0; i < config.newConnectionWorkers; i++) workers.push(worker(config, false, 'newConnectionOk'));
  process.send({ type: 'started' });
  await Promise.all(workers);
  agent.destroy();
  process.send({ type: 'totals', ...totals });
  process.disconnect();
});
