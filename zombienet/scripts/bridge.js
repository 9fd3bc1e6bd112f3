// zombienet js-script: sends a bridge message with detr_sendBridgeMessage on the node it runs
// for, while the nodes named in args ("charlie,dave") listen with
// detr_subscribeBridgeMessages. Returns how many of them received it exactly once (within 20 s
// of sending, waiting 5 s more for duplicates).
const { connect, rpc, sleep } = require('./rpc');

async function run(nodeName, networkInfo, args) {
  const receivers = args.join(',').split(',').filter(Boolean);
  const sender = await connect(networkInfo.nodesByName[nodeName].wsUri);
  const seen = {};
  const listeners = [];
  for (const name of receivers) {
    const api = await connect(networkInfo.nodesByName[name].wsUri);
    seen[name] = [];
    await api._rpcCore.provider.subscribe('detr_bridgeMessage', 'detr_subscribeBridgeMessages', [], (err, event) => {
      if (!err) seen[name].push(event.id);
    });
    listeners.push(api);
  }
  const sent = await rpc(sender, 'detr_sendBridgeMessage', [7, Date.now(), '0xf1a2ec4a1e']);
  console.log(`bridge message ${sent.id} queued for ${sent.peers} peers`);
  for (let i = 0; i < 40 && receivers.some((n) => !seen[n].includes(sent.id)); i++) await sleep(500);
  await sleep(5000);
  const counts = receivers.map((n) => [n, seen[n].filter((id) => id === sent.id).length]);
  console.log(`deliveries: ${counts.map(([n, c]) => `${n} ${c}`).join(', ')}`);
  const once = counts.filter(([, c]) => c === 1);
  await Promise.all([sender, ...listeners].map((a) => a.disconnect()));
  return once.length;
}

module.exports = { run };
