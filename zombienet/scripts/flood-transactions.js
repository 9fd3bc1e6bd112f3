// Floods a node with valid signed transactions for a while: each endowed dev account signs
// system.remark(<bytes> bytes) with its next nonce (immortal, signed here: no RPC per signature)
// and submits it with author_submitExtrinsic (straight through the provider), one call in flight
// per account, at most <per-second> transactions a second over all accounts (as fast as they
// go without it). A transaction the pool turns away because it is full is signed again for the
// same nonce with a fresh remark and submitted after a pause (the same bytes would be refused as
// "temporarily banned": the pool bans what it drops). A pool that accepts a transaction and
// drops it later leaves a gap in its account's nonces, and every later one of that account
// waits in the pool's future queue, neither propagated nor included: "stalled" counts those
// at the end (the nonces signed past the account's next index). "Already imported" counts as
// accepted: every attempt's bytes are new (a fresh remark, a randomized sr25519 signature), so
// the pool holds exactly these; the fork-aware pool answers so when a view it built while the
// call ran took the transaction from its mempool first (sc-transaction-pool 48,
// `submit_at_inner`). "Outdated" for a nonce tried again means an earlier attempt of it, refused
// as far as we knew, was included after all: the account goes on from its next index. Prints
// {"submitted": accepted, "refused": turned away, "stalled": accepted but stuck behind a gap}.
// Usage: node flood-transactions.js <ws-url> <seconds> <bytes> [per-second]. Exits 1 on any
// other error.
const { ApiPromise, WsProvider, Keyring } = require('@polkadot/api');

const SENDERS = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];
// The pool's answers for "full" (1014 priority too low, 1016 immediately dropped): nobody's
// fault, the same nonce is tried again after FULL_PAUSE_MS with a remark never sent before.
const FULL = /1014|1016|Priority is too low|Immediately Dropped/i;
const FULL_PAUSE_MS = 200;
// The pool already holds these very bytes (1013): accepted.
const KNOWN = /1013|Already Imported/i;
// The nonce is spent (1010 Invalid Transaction: Transaction is outdated).
const OUTDATED = /Transaction is outdated/i;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Submits one signed transaction: 'accepted', 'full', 'outdated', or the error itself.
async function submitTo(provider, hex) {
  try {
    await provider.send('author_submitExtrinsic', [hex]);
    return 'accepted';
  } catch (e) {
    const message = e.message || `${e}`;
    if (KNOWN.test(message)) return 'accepted';
    if (FULL.test(message)) return 'full';
    if (OUTDATED.test(message)) return 'outdated';
    return e;
  }
}

async function flood(api, provider, seconds, bytes, perSecond) {
  const keyring = new Keyring({ type: 'sr25519' });
  const start = Date.now();
  const end = start + seconds * 1000;
  const counts = { submitted: 0, refused: 0, stalled: 0 };
  // Each account's share of the rate: its k-th transaction goes no earlier than start + k * gap.
  const gap = perSecond > 0 ? (SENDERS.length * 1000) / perSecond : 0;
  const { genesisHash, runtimeVersion } = api;
  const signedExtensions = api.registry.signedExtensions;
  const sender = async (uri, index) => {
    const pair = keyring.addFromUri(uri);
    let nonce = (await api.rpc.system.accountNextIndex(pair.address)).toNumber();
    const stalled = async () => {
      const next = (await api.rpc.system.accountNextIndex(pair.address)).toNumber();
      counts.stalled += Math.max(0, nonce - next);
    };
    // A distinct remark per attempt: the first bytes carry the nonce, the sender and the attempt.
    const signed = (attempt) => {
      const remark = new Uint8Array(bytes);
      const view = new DataView(remark.buffer);
      view.setUint32(0, nonce);
      remark[4] = index;
      view.setUint16(5, attempt);
      const tx = api.tx.system.remark(`0x${Buffer.from(remark).toString('hex')}`);
      tx.sign(pair, { nonce, era: 0, blockHash: genesisHash, genesisHash, runtimeVersion, signedExtensions });
      return tx.toHex();
    };
    for (let k = 0; Date.now() < end; k += 1) {
      const due = start + k * gap;
      if (due > Date.now()) await sleep(due - Date.now());
      if (Date.now() >= end) break;
      for (let attempt = 0; ; attempt += 1) {
        const answer = await submitTo(provider, signed(attempt));
        if (answer === 'accepted') {
          counts.submitted += 1;
          nonce += 1;
          break;
        }
        if (answer === 'outdated' && attempt > 0) {
          counts.submitted += 1;
          nonce = (await api.rpc.system.accountNextIndex(pair.address)).toNumber();
          break;
        }
        if (answer !== 'full') throw answer;
        counts.refused += 1;
        if (Date.now() >= end) return stalled();
        await sleep(FULL_PAUSE_MS);
      }
    }
    await stalled();
  };
  await Promise.all(SENDERS.map(sender));
  return counts;
}

async function main() {
  const [url, seconds, bytes, perSecond = '0'] = process.argv.slice(2);
  if (!url || !(Number(seconds) > 0) || !(Number(bytes) >= 7) || !(Number(perSecond) >= 0)) {
    throw new Error('usage: node flood-transactions.js <ws-url> <seconds> <bytes ≥ 7> [per-second]');
  }
  const provider = new WsProvider(url);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  console.log(JSON.stringify(await flood(api, provider, Number(seconds), Number(bytes), Number(perSecond))));
  await api.disconnect();
}

module.exports = { submitTo };

if (require.main === module) {
  main().then(() => process.exit(0)).catch((e) => { console.error(`flood-transactions.js: ${e.message || e}`); process.exit(1); });
}
