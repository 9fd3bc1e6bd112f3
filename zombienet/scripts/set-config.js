// zombienet js-script: root (sudo //Alice) sets the network config fields given in args[0]
// ("rateLimit=200,peerRateLimit=100") through the node it runs for; returns 1 once the call is in a block (it fails with
// the pallet's error otherwise).
const { connect } = require('./rpc');
const { setConfig } = require('./detr-config');

async function run(nodeName, networkInfo, args) {
  const api = await connect(networkInfo.nodesByName[nodeName].wsUri);
  const changes = Object.fromEntries(args.join(',').split(',').filter(Boolean).map((kv) => {
    const [k, v] = kv.split('=');
    if (v === undefined || Number.isNaN(Number(v))) throw new Error(`bad field ${kv}: want name=number`);
    return [k, Number(v)];
  }));
  const { inBlock, networkConfig } = await setConfig(api, changes);
  console.log(`setConfig in ${inBlock}: ${JSON.stringify(networkConfig)}`);
  await api.disconnect();
  return 1;
}

module.exports = { run };
