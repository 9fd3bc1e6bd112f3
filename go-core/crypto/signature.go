package crypto

import (
	"crypto/ed25519"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// verifyOptions are crypto/ed25519's rules (RFC 8032, cofactorless, non-canonical keys and
// small-order points as the standard library takes them), so a signature verifies here exactly
// when it verifies there (TestVerifyAgreesWithTheStandardLibrary).
var verifyOptions = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Verify reports whether sig is pub's Ed25519 signature of msg. curve25519-voi (the Ed25519 of
// CometBFT) computes it in about 60% of the standard library's time (BenchmarkVerify): every
// record a discovery daemon keeps and every handshake's certificate costs one.
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	return verifyUnder(verifyOptions, pub, msg, sig)
}

// verifyUnder is voi's verification under opts; a key of the wrong size does not verify (voi
// would panic).
func verifyUnder(opts *voi.Options, pub ed25519.PublicKey, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, opts)
}

// sign is key's Ed25519 signature of msg: deterministic, so the very bytes crypto/ed25519 gives,
// in about half its time (BenchmarkSign).
func sign(key ed25519.PrivateKey, msg []byte) []byte {
	return voi.Sign(voi.PrivateKey(key), msg)
}
