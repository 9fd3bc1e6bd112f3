// zombienet js-script: returns how many of the protocols named in args ("block,consensus") the
// node it runs for has received DETR P2P messages on (detr_stats), looking for up to 60 s.
// (zombienet splits the args string at commas; the scripts join it back.)
const { connect, rpc, sleep, stat } = require('./rpc');

async function run(nodeName, networkInfo, args) {
  const protocols = args.join(',').split(',').filter(Boolean);
  const api = await connect(networkInfo.nodesByName[nodeName].wsUri);
  let got = [];
  for (let i = 0; i < 120 && got.length < protocols.length; i++) {
    if (i > 0) await sleep(500);
    const stats = await rpc(api, 'detr_stats');
    got = protocols.filter((p) => stat(stats, p, 'received') > 0);
  }
  await api.disconnect();
  console.log(`${nodeName} received on: ${got.join(', ') || 'none'}`);
  return got.length;
}

module.exports = { run };
