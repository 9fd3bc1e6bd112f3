// Signs a balance transfer from //Alice and submits it to a node; prints the block that
// includes it as JSON. Usage: node transfer.js <ws-url> [dest-uri=//Bob] [amount=1 UNIT]
// Exits 1 with a message on any error, or after 90 s.
const { ApiPromise, WsProvider, Keyring } = require('@polkadot/api');

// Signs transferKeepAlive(to, amount) by //Alice through `api`; resolves with the tx hash and
// the block that includes it.
async function transfer(api, to = '//Bob', amount = '1000000000000') {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const dest = keyring.addFromUri(to);
  const tx = api.tx.balances.transferKeepAlive(dest.address, amount);
  const inBlock = await new Promise((resolve, reject) => {
    tx.signAndSend(alice, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(`dispatch error: ${dispatchError.toString()}`));
      else if (status.isInBlock) resolve(status.asInBlock.toHex());
      else if (status.isDropped || status.isInvalid || status.isUsurped) reject(new Error(`transaction ${status.type}`));
    }).catch(reject);
  });
  return { txHash: tx.hash.toHex(), inBlock };
}

async function main() {
  const [url, to, amount] = process.argv.slice(2);
  if (!url) throw new Error('usage: node transfer.js <ws-url> [dest-uri] [amount]');
  const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
  console.log(JSON.stringify(await transfer(api, to, amount)));
  await api.disconnect();
}

module.exports = { transfer };

if (require.main === module) {
  setTimeout(() => { console.error('transfer.js: timed out after 90 s'); process.exit(1); }, 90_000).unref();
  main().then(() => process.exit(0)).catch((e) => { console.error(`transfer.js: ${e.message || e}`); process.exit(1); });
}
