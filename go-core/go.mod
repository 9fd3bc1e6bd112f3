module github.com/flarechain/detr-p2p/go-core

go 1.26.0

require (
	github.com/flynn/noise v1.1.0
	github.com/oasisprotocol/curve25519-voi v0.0.0-20230904125328-1f23a7beb09a
	golang.org/x/crypto v0.59.0
	golang.org/x/time v0.16.0
)

require golang.org/x/sys v0.50.0 // indirect
