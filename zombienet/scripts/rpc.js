// Small helpers shared by the zombienet js-scripts and inspect.js: raw JSON-RPC over a
// WsProvider of @polkadot/api, and bounded waits.
const { ApiPromise, WsProvider } = require('@polkadot/api');

// An ApiPromise connected to `url`.
function connect(url) {
  return ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
}

// Calls a raw JSON-RPC method (detr_* methods are not in polkadot-js's type registry).
function rpc(api, method, params = []) {
  return api._rpcCore.provider.send(method, params);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The counter `field` of `protocol` in a detr_stats answer.
function stat(stats, protocol, field) {
  const p = stats.protocols.find((x) => x.protocol === protocol);
  return p ? p[field] : 0;
}

module.exports = { connect, rpc, sleep, stat };
