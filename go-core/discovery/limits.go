package discovery

import (
	"net/netip"
	"time"
)

// Limits of a daemon's state, each with its reason. The README's discovery section states them.
const (
	// gossipFanout: contacts a new record is pushed to; with pulls repairing, 3 reaches every
	// daemon in O(log n) rounds.
	gossipFanout = 3

	// maxRecords bounds the records held over all chains: ~1,900 bytes each at most (wire
	// form and parsed form), so about 16 MB.
	maxRecords = 8192
	// maxRecordsPerChain bounds one chain's records: the whole membership of a chain of up to
	// 1,024 nodes, far more peers than a node dials.
	maxRecordsPerChain = 1024
	// maxChains bounds the genesis hashes records are held for: genesis is attacker-chosen.
	maxChains = 64
	// maxRecordsPerSubnet bounds, per chain, the records whose first address is in one IPv4
	// /24 or IPv6 /56 (one operator's network): throwaway keys pointing at one network cannot
	// fill a chain. Local addresses are exempt where they are served (AllowLocal).
	maxRecordsPerSubnet = 16
	// maxRecordsPerOrigin bounds the records first delivered by one daemon (or registered
	// through the local API): a single daemon cannot fill the store with throwaway keys.
	maxRecordsPerOrigin = 512
	// maxClockSkew: a record signed further ahead of this daemon's clock is refused (it would
	// not expire in time).
	maxClockSkew = 2 * time.Minute
	// maxLocalRecords bounds the records registered through the local API that are pushed
	// every round (a daemon serves one node, or a few).
	maxLocalRecords = 16

	// maxInterests bounds the chains asked for through the API that are pulled before any of
	// their records is known; interestTTL forgets one not asked for again.
	maxInterests = 16
	interestTTL  = 10 * time.Minute

	// lookupTimeout: a NODES reply later than this is unsolicited (the FINDNODE is forgotten).
	// Not longer: a late reply names contacts to ping, each a handshake; in a loaded
	// 1,000-daemon network, taking NODES up to 10 s late raised handshakes per daemon from
	// 107–112 to 122–129 and the time to converge with them.
	lookupTimeout = 2 * time.Second
	// pongGrace: a pong is taken this long after its ping, past pingTimeout too (the miss
	// still counts; the late pong resets the count). A host behind on its own queue reads
	// honest pongs late: dropped, they counted as misses and evicted honest contacts (a loaded
	// 1,000-daemon network dropped ~47,000 late pongs).
	pongGrace = 10 * time.Second
	// maxLookupsPerContact bounds the FINDNODEs awaiting a reply from one contact: a round asks
	// one contact at most three times (bootstrap, neighbourhood, random id).
	maxLookupsPerContact = 3
	// maxNewContactsPerReply: unknown contacts of one NODES reply that get a ping (and as many
	// that go on replacement lists), at most one per IP: a reply listing made-up contacts at a
	// victim's address reflects at most one 256-byte hello per reply (the reply itself is
	// larger). Each ping to a new contact is a handshake; lookups repeat, so the table still
	// fills, only more slowly. 1,000 daemons, 4 paired runs each way: 2 per reply, 72–88
	// handshakes per daemon and 103–123 CPU-s (57.5–66.0 s) to converge; 4 per reply, 106–114
	// handshakes and 117–122 CPU-s (63.7–67.6 s).
	maxNewContactsPerReply = 2
	// lookupRounds: once the table holds a bucket's worth of contacts, lookups (our own
	// neighbourhood and a random id) run every 5 rounds instead of every round: a full table
	// changes slowly, and lookups were most of a converged network's traffic.
	lookupRounds = 5
	// settledContacts, settledLookupRounds: a table of two buckets' worth of contacts answers
	// lookups and feeds pulls well; lookups then run every 20 rounds. Each contact a lookup
	// finds costs a handshake on both sides. In a 1,000-daemon network (3 paired runs), every
	// 5 rounds past that point made 71–77 handshakes per daemon until converged (45.3, 56.3,
	// 55.2 s) and 138–139 KB per daemon per minute once converged; every 20 rounds, 53–63
	// handshakes (42.1, 46.6, 50.0 s) and 96–98 KB.
	settledContacts     = 2 * BucketSize
	settledLookupRounds = 4 * lookupRounds
	// pushRounds: a daemon pushes the records registered through its API to one contact every
	// 10 rounds (gossip and pulls carry them further).
	pushRounds = 10
	// maxPushed bounds the contacts remembered as having the local records (a thin table
	// holds fewer than BucketSize; a table that stays thin while contacts come and go starts
	// over past this many).
	maxPushed = 4 * BucketSize
	// maxPendingPings bounds the pings awaiting their pong.
	maxPendingPings = 1024

	// livenessWorkers dial record addresses in parallel; livenessQueue bounds checks waiting:
	// a whole chain's worth, so that a daemon that learns a chain queues its checks at once.
	livenessWorkers = 4
	livenessQueue   = maxRecordsPerChain
	// dialsPerSecond is the liveness dial budget and dialBurst what it allows at once: records
	// from throwaway keys cannot turn the daemon into a SYN source or a scanner beyond 100
	// dials/s sustained, while a daemon that learns a whole chain of 1,024 nodes checks it at
	// once. (With a burst of 100, such a daemon handed the chain out over 10 s more: in a
	// 1,000-daemon network, every record had reached every daemon while up to 58% of them
	// still waited for their check.)
	dialsPerSecond = 100
	dialBurst      = maxRecordsPerChain
	// maxCheckFailures: a record whose node fails this many checks in a row is dropped.
	maxCheckFailures = 3
	// recordScanRounds: every record is visited (expiry, checks due again) every 5 rounds; a
	// new record is queued for its first check without a scan. Scanning every round, each
	// daemon of a 1,000-daemon network passed over 1,000 records a second: 67 of the 387
	// CPU-seconds of the in-memory benchmark. (Peers filters expired records itself.)
	recordScanRounds = 5
)

// subnetOf is the network a record address or contact is counted in: /24 for IPv4, /56 for IPv6.
func subnetOf(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is4() {
		p, _ := ip.Prefix(24)
		return p
	}
	p, _ := ip.Prefix(56)
	return p
}

// isLocal reports a loopback, private, link-local or unspecified address.
func isLocal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
}
