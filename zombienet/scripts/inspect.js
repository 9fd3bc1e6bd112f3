// Prints what a FlareChain node knows: chain, best and finalized blocks, peers (system_peers and
// detr_peers), detr sessions and counters, and the on-chain network config (api.call.detrP2pApi).
//
//   node zombienet/scripts/inspect.js ws://127.0.0.1:9944 [--json]
const { connect, rpc } = require('./rpc');

async function inspect(url) {
  const api = await connect(url);
  const [chain, best, finalizedHash, systemPeers, detrPeers, sessions, stats] = await Promise.all([
    api.rpc.system.chain(),
    api.rpc.chain.getHeader(),
    api.rpc.chain.getFinalizedHead(),
    api.rpc.system.peers(),
    rpc(api, 'detr_peers'),
    rpc(api, 'detr_sessions'),
    rpc(api, 'detr_stats'),
  ]);
  const finalized = await api.rpc.chain.getHeader(finalizedHash);
  const onChain = api.call.detrP2pApi
    ? { networkConfig: (await api.call.detrP2pApi.networkConfig()).toJSON(), bridgeChains: (await api.call.detrP2pApi.bridgeChains()).toJSON() }
    : null;
  await api.disconnect();
  return {
    chain: chain.toString(),
    best: best.number.toNumber(),
    finalized: finalized.number.toNumber(),
    peers: systemPeers.map((p) => ({ peerId: p.peerId.toString(), roles: p.roles.toString(), bestNumber: p.bestNumber.toNumber() })),
    detrPeers,
    sessions,
    stats,
    onChain,
  };
}

function print(info) {
  const line = (k, v) => console.log(`${k.padEnd(12)} ${v}`);
  line('chain', info.chain);
  line('best', `#${info.best}`);
  line('finalized', `#${info.finalized}`);
  line('peers', `${info.peers.length} (system_peers)`);
  for (const p of info.detrPeers) {
    line('', `${p.peerId} reputation ${p.reputation} sessions [${p.sessions.join(' ')}] best #${p.bestBlock ? p.bestBlock[0] : '?'} queued ${p.queued}`);
  }
  const up = info.sessions.filter((s) => s.established).length;
  line('sessions', `${up} established of ${info.sessions.length} detr streams`);
  for (const p of info.stats.protocols) {
    line(`  ${p.protocol}`, `sent ${p.sent} received ${p.received} dropped ${p.dropped} throttled ${p.throttled} handshakes ${p.handshakes} decrypt failures ${p.decryptFailures} sessions ${p.sessions}`);
  }
  line('bans', info.stats.bans);
  const c = info.stats.config;
  line('in force', `rate ${c.rateLimit}/s peer rate ${c.peerRateLimit}/s max peers ${c.maxPeers} queue ${c.maxQueueSize} threshold ${c.reputationThreshold} (from #${c.fromBlock ?? '-'})`);
  if (info.onChain) {
    line('on chain', JSON.stringify(info.onChain.networkConfig));
    line('bridges', JSON.stringify(info.onChain.bridgeChains));
  }
}

async function main() {
  const [url = 'ws://127.0.0.1:9944', flag] = process.argv.slice(2);
  const info = await inspect(url);
  if (flag === '--json') console.log(JSON.stringify(info));
  else print(info);
}

module.exports = { inspect };

if (require.main === module) {
  setTimeout(() => { console.error('inspect.js: timed out after 60 s'); process.exit(1); }, 60_000).unref();
  main().then(() => process.exit(0)).catch((e) => { console.error(`inspect.js: ${e.message || e}`); process.exit(1); });
}
