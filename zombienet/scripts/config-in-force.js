// zombienet js-script: returns how many of the nodes named in args ("alice,bob,charlie,dave")
// report the rate limit given as the first arg in force through detr_stats (RPC), looking for
// up to 60 s. Example args: "200,alice,bob".
const { connect, rpc, sleep } = require('./rpc');

async function run(_nodeName, networkInfo, args) {
  const [rate, ...names] = args.join(',').split(',').filter(Boolean);
  const apis = await Promise.all(names.map((n) => connect(networkInfo.nodesByName[n].wsUri)));
  let applied = [];
  for (let i = 0; i < 120 && applied.length < names.length; i++) {
    if (i > 0) await sleep(500);
    const stats = await Promise.all(apis.map((a) => rpc(a, 'detr_stats')));
    applied = names.filter((_, j) => stats[j].config.rateLimit === Number(rate));
  }
  console.log(`rate limit ${rate} in force on: ${applied.join(', ') || 'none'}`);
  await Promise.all(apis.map((a) => a.disconnect()));
  return applied.length;
}

module.exports = { run };
