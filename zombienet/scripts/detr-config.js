// The DETR P2P network parameters a chain governs (pallet-detr-p2p, DetrP2pApi).
//
//   node detr-config.js <ws-url>                       print them (api.call.detrP2pApi)
//   node detr-config.js <ws-url> set '<json>'          sudo(detrP2p.setConfig) as //Alice, with
//                                                      the given fields over the current ones,
//                                                      e.g. '{"rateLimit": 200}'
//   node detr-config.js <ws-url> bridge-chains 1,7     sudo(detrP2p.setBridgeChains) as //Alice
//
// Prints JSON. Exits 1 with a message on any error (a refused value names its field), or
// after 90 s.
const { ApiPromise, WsProvider, Keyring } = require('@polkadot/api');

async function read(api) {
  const config = await api.call.detrP2pApi.networkConfig();
  const chains = await api.call.detrP2pApi.bridgeChains();
  const header = await api.rpc.chain.getHeader();
  return { block: header.number.toNumber(), networkConfig: config.toJSON(), bridgeChains: chains.toJSON() };
}

// Submits sudo(call) signed by //Alice; resolves with the block hash once in a block, rejects
// with the pallet error's name if the call failed.
function sudo(api, call) {
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  return new Promise((resolve, reject) => {
    api.tx.sudo.sudo(call).signAndSend(alice, ({ status, events, dispatchError }) => {
      if (dispatchError) return reject(new Error(`dispatch error: ${dispatchError.toString()}`));
      if (status.isDropped || status.isInvalid || status.isUsurped) {
        return reject(new Error(`transaction ${status.type}`));
      }
      if (!status.isInBlock) return;
      for (const { event } of events) {
        if (!api.events.sudo.Sudid.is(event)) continue;
        const result = event.data.sudoResult;
        if (result.isErr) {
          const err = result.asErr;
          if (err.isModule) {
            const { section, name, docs } = api.registry.findMetaError(err.asModule);
            return reject(new Error(`${section}.${name}: ${docs.join(' ')}`));
          }
          return reject(new Error(err.toString()));
        }
      }
      resolve(status.asInBlock.toHex());
    }).catch(reject);
  });
}

// sudo(detrP2p.setConfig) with `changes` over the current values; resolves once in a block.
async function setConfig(api, changes) {
  const current = (await api.call.detrP2pApi.networkConfig()).toJSON();
  const unknown = Object.keys(changes).filter((k) => !(k in current));
  if (unknown.length) throw new Error(`unknown field(s) ${unknown.join(', ')}; known: ${Object.keys(current).join(', ')}`);
  const config = { ...current, ...changes };
  const inBlock = await sudo(api, api.tx.detrP2p.setConfig(config));
  return { inBlock, networkConfig: config };
}

async function main() {
  const [url, command, arg] = process.argv.slice(2);
  if (!url) throw new Error("usage: node detr-config.js <ws-url> [set '<json>' | bridge-chains <ids>]");
  const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
  if (!api.call.detrP2pApi) throw new Error('the runtime has no DetrP2pApi');
  let out;
  if (command === undefined) {
    out = await read(api);
  } else if (command === 'set') {
    out = await setConfig(api, JSON.parse(arg || '{}'));
  } else if (command === 'bridge-chains') {
    const chains = (arg || '').split(',').filter((s) => s !== '').map(Number);
    if (chains.some((c) => !Number.isInteger(c) || c < 0)) throw new Error(`bad chain list ${arg}`);
    const inBlock = await sudo(api, api.tx.detrP2p.setBridgeChains(chains));
    out = { inBlock, bridgeChains: chains };
  } else {
    throw new Error(`unknown command ${command}`);
  }
  console.log(JSON.stringify(out));
  await api.disconnect();
}

module.exports = { read, sudo, setConfig };

if (require.main === module) {
  setTimeout(() => { console.error('detr-config.js: timed out after 90 s'); process.exit(1); }, 90_000).unref();
  main().then(() => process.exit(0)).catch((e) => { console.error(`detr-config.js: ${e.message || e}`); process.exit(1); });
}
