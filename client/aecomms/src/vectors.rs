//! Checks `tests/vectors/aecomms.json`, the byte-exact vectors Rust and Go share.
//! Regenerate with `DETR_BLESS_VECTORS=1 cargo test -p etrid-aecomms vectors` (only when the
//! construction changes on purpose; the Go side must follow).

use std::{path::PathBuf, time::Instant};

use codec::Encode;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::{
    handshake::{derive_keys, Handshake},
    Binding, LocalIdentity, RemoteIdentity,
};

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Party {
    identity_seed: String,
    identity_public: String,
    peer_id: String,
    ephemeral_secret: String,
    ephemeral_public: String,
    handshake: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Frame {
    from: String,
    counter: u64,
    plaintext: String,
    sealed: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Vectors {
    construction: String,
    description: String,
    protocol: String,
    genesis: String,
    generation: u64,
    a: Party,
    b: Party,
    shared_secret: String,
    key_ab: String,
    key_ba: String,
    frames: Vec<Frame>,
}

fn peer_id(public: &[u8; 32]) -> Vec<u8> {
    [&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20][..], &public[..]].concat()
}

fn party(seed: u8, eph: u8) -> (LocalIdentity, StaticSecret) {
    let public = SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes();
    (LocalIdentity::from_seed(&[seed; 32], peer_id(&public)), StaticSecret::from([eph; 32]))
}

fn binding(remote: &LocalIdentity, protocol: &str, genesis: [u8; 32]) -> Binding {
    Binding {
        remote: RemoteIdentity {
            peer_id: remote.peer_id.clone(),
            public: remote.signing.verifying_key(),
        },
        protocol: protocol.as_bytes().to_vec(),
        genesis,
    }
}

fn generate() -> Vectors {
    let genesis = [0x11; 32];
    let protocol = format!("/{}/detr/block/1", hex::encode(genesis));
    let (mut a, eph_a) = party(0xa1, 0xe1);
    let (mut b, eph_b) = party(0xb2, 0xe2);
    // Party `a` of the construction is the one with the smaller PeerId.
    let (mut eph_a, mut eph_b) = (eph_a, eph_b);
    if a.peer_id > b.peer_id {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut eph_a, &mut eph_b);
    }
    let (bind_ab, bind_ba) = (binding(&b, &protocol, genesis), binding(&a, &protocol, genesis));
    let (ea, eb) = (eph_a.to_bytes(), eph_b.to_bytes());
    let ha = Handshake::with_ephemeral(&a, &bind_ab, 0, eph_a);
    let hb = Handshake::with_ephemeral(&b, &bind_ba, 0, eph_b);
    let now = Instant::now();
    let mut sa = ha.complete(&a, &bind_ab, hb.message(), now).unwrap();
    let mut sb = hb.complete(&b, &bind_ba, ha.message(), now).unwrap();
    let shared =
        StaticSecret::from(ea).diffie_hellman(&PublicKey::from(hb.message().ephemeral_public));
    let keys = derive_keys(&a, &bind_ab, ha.message(), hb.message(), shared.as_bytes());

    let mut frames = Vec::new();
    for (from, text) in
        [("a", &b"first frame a->b"[..]), ("a", b""), ("b", b"reply b->a"), ("a", &[0xff; 70])]
    {
        let (sender, counter) = if from == "a" {
            (&mut sa, sa_counter(&frames, "a"))
        } else {
            (&mut sb, sa_counter(&frames, "b"))
        };
        let sealed = sender.seal(text).unwrap();
        frames.push(Frame {
            from: from.into(),
            counter,
            plaintext: hex::encode(text),
            sealed: hex::encode(sealed),
        });
    }
    let party_json =
        |id: &LocalIdentity, eph: [u8; 32], msg: &crate::HandshakeMessage, seed: [u8; 32]| Party {
            identity_seed: hex::encode(seed),
            identity_public: hex::encode(id.public()),
            peer_id: hex::encode(&id.peer_id),
            ephemeral_secret: hex::encode(eph),
            ephemeral_public: hex::encode(msg.ephemeral_public),
            handshake: hex::encode(msg.encode()),
        };
    Vectors {
        construction: "detr-aecomms/v1".into(),
        description:
            "See client/aecomms/src/lib.rs. `a` has the smaller peer id; handshake is the \
                      SCALE encoding of etrid_protocol::HandshakeMessage; sealed frames are \
                      u64le(generation) || u64le(counter) || ciphertext || tag."
                .into(),
        protocol,
        genesis: hex::encode(genesis),
        generation: 0,
        a: party_json(&a, ea, ha.message(), a.signing.to_bytes()),
        b: party_json(&b, eb, hb.message(), b.signing.to_bytes()),
        shared_secret: hex::encode(shared.as_bytes()),
        key_ab: hex::encode(&keys[..32]),
        key_ba: hex::encode(&keys[32..]),
        frames,
    }
}

fn sa_counter(frames: &[Frame], from: &str) -> u64 {
    frames.iter().filter(|f| f.from == from).count() as u64
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/aecomms.json")
}

#[test]
fn vectors_match_the_shared_file() {
    let generated = generate();
    if std::env::var_os("DETR_BLESS_VECTORS").is_some() {
        std::fs::create_dir_all(path().parent().unwrap()).unwrap();
        std::fs::write(path(), serde_json::to_string_pretty(&generated).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(path())
        .unwrap_or_else(|e| panic!("{}: {e} (bless with DETR_BLESS_VECTORS=1)", path().display()));
    let stored: Vectors = serde_json::from_str(&text).expect("valid vectors JSON");
    assert_eq!(stored, generated, "the construction no longer matches tests/vectors/aecomms.json");
}

#[test]
fn stored_frames_open_with_the_stored_keys() {
    let generated = generate();
    let key_ab: [u8; 32] = hex::decode(&generated.key_ab).unwrap().try_into().unwrap();
    let key_ba: [u8; 32] = hex::decode(&generated.key_ba).unwrap().try_into().unwrap();
    let now = Instant::now();
    let mut at_b = crate::Session::new(0, &key_ba, &key_ab, now);
    let mut at_a = crate::Session::new(0, &key_ab, &key_ba, now);
    for frame in &generated.frames {
        let receiver = if frame.from == "a" { &mut at_b } else { &mut at_a };
        let opened = receiver.open(&hex::decode(&frame.sealed).unwrap()).unwrap();
        assert_eq!(hex::encode(opened), frame.plaintext);
    }
}
