// Package secretconn compares AEComms (go-core/crypto) with CometBFT's SecretConnection
// (github.com/cometbft/cometbft/p2p/conn), the nearest design (X25519, ChaCha20-Poly1305,
// Ed25519-signed handshake), measured the same way in the same run: the same TCP loopback
// connections, the same pipelining (a writer and a reader goroutine), the same message sizes.
// It is a module of its own so that the daemon's module does not depend on CometBFT.
package secretconn
