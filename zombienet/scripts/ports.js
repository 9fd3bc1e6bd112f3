// Ports for the processes scripts/zombienet.sh starts: the nodes (p2p, RPC, Prometheus) and the
// discovery daemons (UDP, HTTP).
//
//   node ports.js COUNT                 COUNT ports the OS picks
//   node ports.js COUNT FIRST [NEXT]    COUNT ports of the range FIRST..FIRST+RANGE, from
//                                       FIRST+NEXT on (wrapping), skipping bound ones
//
// Prints one port per line. A port is chosen before the process that binds it has started, so
// another process may take it in between; a port the OS picks comes from its ephemeral range,
// which every outbound connection on the machine draws from too (a node that then cannot bind
// its Prometheus port exits, and zombienet waits 300 s for it). So `make test-e2e` gives the
// zombienet lane a range of its own below the ephemeral range (32768-60999 on Linux), as
// tests/src/ports.rs does for the cargo lanes.
const net = require('node:net');
const dgram = require('node:dgram');

// Ports in a lane's range (as PORTS_PER_LANE in tests/src/ports.rs).
const RANGE = 2000;

// Whether `port` can be bound now for TCP on every address and for UDP on 127.0.0.1.
async function isFree(port) {
  const tcp = await new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!tcp) return false;
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

// A port the OS picks, free on 127.0.0.1.
function osPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// `count` free ports of the range from `first`, from offset `next` on, in order and wrapping.
async function rangePorts(count, first, next = 0) {
  if (!Number.isInteger(first) || first < 1024 || first + RANGE > 65536) {
    throw new Error(`first port ${first}: must be in 1024..${65536 - RANGE}`);
  }
  const ports = [];
  for (let tried = 0; tried < RANGE && ports.length < count; tried += 1) {
    const port = first + ((next + tried) % RANGE);
    if (await isFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`only ${ports.length} free ports in ${first}..${first + RANGE}`);
  return ports;
}

// `count` ports: from the range at `first` when given, else picked by the OS.
async function ports(count, first, next) {
  if (!Number.isInteger(count) || count < 1 || count > RANGE) {
    throw new Error(`count ${count}: must be in 1..${RANGE}`);
  }
  if (first === undefined) {
    const picked = new Set();
    for (let tried = 0; tried < 10 * count && picked.size < count; tried += 1) picked.add(await osPort());
    if (picked.size < count) throw new Error(`the OS gave only ${picked.size} distinct ports`);
    return [...picked];
  }
  return rangePorts(count, first, next);
}

if (require.main === module) {
  const [count, first, next] = process.argv.slice(2).map(Number);
  ports(count, Number.isNaN(first) ? undefined : first, next || 0)
    .then((list) => console.log(list.join('\n')))
    .catch((e) => {
      console.error(`ports.js: ${e.message}`);
      process.exit(1);
    });
}

module.exports = { ports, RANGE };
