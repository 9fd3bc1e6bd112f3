// zombienet js-script: GRANDPA travels over detr on the node it runs for. Returns -1 if
// sc-network ever opened a `/grandpa/1` substream (its Prometheus counter
// substrate_sub_libp2p_notifications_streams_opened_total), -2 if it opened no detr consensus
// substream (the counter would then prove nothing), else the GRANDPA messages received on the
// detr consensus protocol per finalized block (at least 2 × (validators − 1) on a validator).
const { connect, rpc, stat } = require('./rpc');

const OPENED = 'substrate_sub_libp2p_notifications_streams_opened_total{';

async function run(nodeName, networkInfo) {
  const node = networkInfo.nodesByName[nodeName];
  const text = await (await fetch(node.prometheusUri)).text();
  const opened = text
    .split('\n')
    .filter((l) => l.startsWith(OPENED))
    .map((l) => (l.match(/protocol="([^"]*)"/) || [])[1] || '');
  console.log(`${nodeName} opened substreams of: ${opened.join(', ')}`);
  if (opened.some((p) => p.includes('grandpa'))) return -1;
  if (!opened.some((p) => p.endsWith('/detr/consensus/1'))) return -2;
  const api = await connect(node.wsUri);
  const stats = await rpc(api, 'detr_stats');
  const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  await api.disconnect();
  const received = stat(stats, 'consensus', 'received');
  console.log(`${nodeName}: ${received} GRANDPA messages over detr, ${finalized} blocks finalized`);
  return finalized > 0 ? Math.floor(received / finalized) : 0;
}

module.exports = { run };
