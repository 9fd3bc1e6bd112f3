// How flood-transactions.js reads the pool's answers, as the node's RPC words them
// (`node --test zombienet/scripts`, part of `make test-unit`).
const test = require('node:test');
const assert = require('node:assert');
const { submitTo } = require('./flood-transactions');

// A provider whose one call fails with `message` (or succeeds without one).
const provider = (message) => ({
  send: async () => {
    if (message) throw new Error(message);
    return '0x00';
  },
});

test('an accepted transaction is accepted', async () => {
  assert.strictEqual(await submitTo(provider(), '0x'), 'accepted');
});

test('the pool holding these very bytes already is an acceptance, not an error', async () => {
  // What the fork-aware pool answered in CI when a view it built took the transaction first.
  const answer = await submitTo(provider('1013: Transaction Already Imported: Any { .. }'), '0x');
  assert.strictEqual(answer, 'accepted');
});

test('a full pool asks for another attempt', async () => {
  for (const message of ['1016: Immediately Dropped: The transaction couldn\'t enter the pool because of the limit', '1014: Priority is too low: (0 vs 0)']) {
    assert.strictEqual(await submitTo(provider(message), '0x'), 'full');
  }
});

test('a spent nonce is outdated', async () => {
  const answer = await submitTo(provider('1010: Invalid Transaction: Transaction is outdated'), '0x');
  assert.strictEqual(answer, 'outdated');
});

test('any other error comes back as the error', async () => {
  const answer = await submitTo(provider('1010: Invalid Transaction: Inability to pay some fees'), '0x');
  assert.ok(answer instanceof Error);
  assert.match(answer.message, /Inability to pay/);
});
