// How ports.js hands out ports (`node --test zombienet/scripts`, part of `make test-unit`).
const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const dgram = require('node:dgram');
const { ports, RANGE } = require('./ports');

// A range no lane of the Makefile uses (as tests/src/ports.rs's test).
const FIRST = 29500;

const listenTcp = (port) => new Promise((resolve) => {
  const server = net.createServer().listen(port, '127.0.0.1', () => resolve(server));
});
const bindUdp = (port) => new Promise((resolve) => {
  const socket = dgram.createSocket('udp4');
  socket.bind(port, '127.0.0.1', () => resolve(socket));
});

test('ports come from the range in order, skipping ports bound for TCP or UDP', async () => {
  const tcp = await listenTcp(FIRST + 1);
  const udp = await bindUdp(FIRST + 2);
  try {
    assert.deepStrictEqual(await ports(3, FIRST), [FIRST, FIRST + 3, FIRST + 4]);
    assert.deepStrictEqual(await ports(2, FIRST, 5), [FIRST + 5, FIRST + 6]);
  } finally {
    tcp.close();
    udp.close();
  }
});

test('the range wraps', async () => {
  assert.deepStrictEqual(await ports(2, FIRST, RANGE - 1), [FIRST + RANGE - 1, FIRST]);
});

test('without a range the OS picks distinct ports', async () => {
  const picked = await ports(4);
  assert.strictEqual(new Set(picked).size, 4);
  for (const port of picked) assert.ok(port > 0 && port < 65536);
});

test('a range past the last port or a count of zero is an error', async () => {
  await assert.rejects(ports(1, 65000), /first port 65000/);
  await assert.rejects(ports(0, FIRST), /count 0/);
});
