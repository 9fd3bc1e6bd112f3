// zombienet js-script: a balance transfer signed by //Alice is submitted on the node it runs
// for (Dave, a full node) and included in a block; returns how many of the nodes named in args
// ("alice,bob,charlie") received a transaction over the detr tx protocol since before it
// (within 20 s of its inclusion).
const { connect, rpc, sleep, stat } = require('./rpc');
const { transfer } = require('./transfer');

async function run(nodeName, networkInfo, args) {
  const names = args.join(',').split(',').filter(Boolean);
  const apis = await Promise.all(names.map((n) => connect(networkInfo.nodesByName[n].wsUri)));
  const before = await Promise.all(apis.map((a) => rpc(a, 'detr_stats')));
  const submitter = await connect(networkInfo.nodesByName[nodeName].wsUri);
  const { txHash, inBlock } = await transfer(submitter, '//Ferdie');
  console.log(`transfer ${txHash} in block ${inBlock}`);
  // Relays may land just after the block: look for up to 20 s.
  let got = [];
  for (let i = 0; i < 40 && got.length < names.length; i++) {
    const after = await Promise.all(apis.map((a) => rpc(a, 'detr_stats')));
    got = names.filter((_, j) => stat(after[j], 'tx', 'received') > stat(before[j], 'tx', 'received'));
    if (got.length < names.length) await sleep(500);
  }
  console.log(`received over detr by: ${got.join(', ') || 'none'}`);
  await Promise.all([submitter, ...apis].map((a) => a.disconnect()));
  return got.length;
}

module.exports = { run };
