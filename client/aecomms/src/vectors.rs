//! Checks `tests/vectors/aecomms.json`, the byte-exact vectors Rust and Go share.
//! Regenerate with `DETR_BLESS_VECTORS=1 cargo test -p etrid-aecomms vectors` (only when the
//! construction changes on purpose; `go-core/crypto` must follow).
//!
//! The vectors come from this crate's handshake and sessions and are checked against a second
//! run of plain `snow` (its default resolver) with the same keys.

use std::{path::PathBuf, time::Duration, time::Instant};

use chacha20poly1305::{aead::AeadInPlace, ChaCha20Poly1305, KeyInit};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::{
    ed25519_peer_id, Binding, Handshake, LocalIdentity, Next, RekeyPolicy, RemoteIdentity, Role,
    Session, NOISE_PATTERN,
};

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Party {
    identity_seed: String,
    identity_public: String,
    peer_id: String,
    static_secret: String,
    static_public: String,
    ephemeral_secret: String,
    ephemeral_public: String,
    certificate: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Frame {
    from: String,
    epoch: u64,
    counter: u64,
    plaintext: String,
    sealed: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Rekeyed {
    key_i2r_epoch1: String,
    key_i2r_epoch2: String,
    key_r2i_epoch1: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Vectors {
    construction: String,
    description: String,
    protocol: String,
    genesis: String,
    prologue: String,
    rekey_after_messages: u64,
    initiator: Party,
    responder: Party,
    messages: Vec<String>,
    handshake_hash: String,
    key_i2r: String,
    key_r2i: String,
    frames: Vec<Frame>,
    rekeyed: Rekeyed,
}

struct Fixed {
    seed: [u8; 32],
    static_secret: [u8; 32],
    ephemeral: [u8; 32],
    identity: LocalIdentity,
}

fn fixed(seed: u8, stat: u8, eph: u8) -> Fixed {
    let public = SigningKey::from_bytes(&[seed; 32]).verifying_key();
    let identity = LocalIdentity::with_static_secret(
        &[seed; 32],
        ed25519_peer_id(&public),
        Zeroizing::new([stat; 32]),
    );
    Fixed { seed: [seed; 32], static_secret: [stat; 32], ephemeral: [eph; 32], identity }
}

fn binding(remote: &LocalIdentity, protocol: &str, genesis: [u8; 32]) -> Binding {
    Binding {
        remote: RemoteIdentity {
            peer_id: remote.peer_id().to_vec(),
            public: ed25519_dalek::VerifyingKey::from_bytes(&remote.public()).unwrap(),
        },
        protocol: protocol.as_bytes().to_vec(),
        genesis,
    }
}

/// Noise `REKEY(k)`, written out for the vectors.
fn rekey(key: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&u64::MAX.to_le_bytes());
    ChaCha20Poly1305::new(key.into())
        .encrypt_in_place_detached(&nonce.into(), &[], &mut out)
        .unwrap();
    out
}

const REKEY_AFTER: u64 = 2;

struct Run {
    messages: Vec<Vec<u8>>,
    initiator: Session,
    responder: Session,
}

/// The handshake through this crate.
fn run(i: &Fixed, r: &Fixed, bind_i: &Binding, bind_r: &Binding) -> Run {
    let policy = RekeyPolicy { max_messages: REKEY_AFTER, max_age: Duration::from_secs(3600) };
    let (hi, m1) =
        Handshake::start_with_ephemeral(&i.identity, bind_i.clone(), policy, &i.ephemeral);
    let (hr, none) =
        Handshake::start_with_ephemeral(&r.identity, bind_r.clone(), policy, &r.ephemeral);
    assert!(none.is_none(), "the responder waits");
    let m1 = m1.expect("the initiator speaks first");
    let Next::Wait { handshake: hr, reply: m2 } = hr.read(&m1, &r.identity).unwrap() else {
        panic!("the responder answers message 1")
    };
    let Ok(Next::Done { session: initiator, reply: Some(m3) }) = hi.read(&m2, &i.identity) else {
        panic!("the initiator completes with message 3")
    };
    let Ok(Next::Done { session: responder, reply: None }) = hr.read(&m3, &r.identity) else {
        panic!("the responder completes")
    };
    Run { messages: vec![m1, m2, m3], initiator, responder }
}

/// The same handshake with plain `snow`: messages, hash and the raw split keys.
fn run_snow(i: &Fixed, r: &Fixed, prologue: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>, [u8; 32], [u8; 32]) {
    fn build<'a>(f: &'a Fixed, prologue: &'a [u8]) -> snow::Builder<'a> {
        snow::Builder::new(NOISE_PATTERN.parse().unwrap())
            .local_private_key(&f.static_secret)
            .prologue(prologue)
            .fixed_ephemeral_key_for_testing_only(&f.ephemeral)
    }
    let mut si = build(i, prologue).build_initiator().unwrap();
    let mut sr = build(r, prologue).build_responder().unwrap();
    let (mut buf, mut payload) = (vec![0u8; 1024], vec![0u8; 1024]);
    let mut messages = Vec::new();
    let mut step = |from: &mut snow::HandshakeState,
                    to: &mut snow::HandshakeState,
                    cert: &[u8],
                    messages: &mut Vec<Vec<u8>>| {
        let n = from.write_message(cert, &mut buf).unwrap();
        to.read_message(&buf[..n], &mut payload).unwrap();
        messages.push(buf[..n].to_vec());
    };
    step(&mut si, &mut sr, &[], &mut messages);
    step(&mut sr, &mut si, r.identity.certificate(), &mut messages);
    step(&mut si, &mut sr, i.identity.certificate(), &mut messages);
    let hash = si.get_handshake_hash().to_vec();
    let (i2r, r2i) = si.dangerously_get_raw_split();
    (messages, hash, i2r, r2i)
}

fn party(f: &Fixed) -> Party {
    Party {
        identity_seed: hex::encode(f.seed),
        identity_public: hex::encode(f.identity.public()),
        peer_id: hex::encode(f.identity.peer_id()),
        static_secret: hex::encode(f.static_secret),
        static_public: hex::encode(f.identity.static_public()),
        ephemeral_secret: hex::encode(f.ephemeral),
        ephemeral_public: hex::encode(PublicKey::from(&StaticSecret::from(f.ephemeral)).to_bytes()),
        certificate: hex::encode(f.identity.certificate()),
    }
}

fn generate() -> Vectors {
    let genesis = [0x11; 32];
    let protocol = format!("/{}/detr/block/1", hex::encode(genesis));
    let (mut i, mut r) = (fixed(0xa1, 0x51, 0xe1), fixed(0xb2, 0x52, 0xe2));
    if i.identity.peer_id() > r.identity.peer_id() {
        std::mem::swap(&mut i, &mut r);
    }
    let bind_i = binding(&r.identity, &protocol, genesis);
    let bind_r = binding(&i.identity, &protocol, genesis);
    assert_eq!(bind_i.role(&i.identity), Role::Initiator);
    let prologue = bind_i.prologue(&i.identity);
    assert_eq!(prologue, bind_r.prologue(&r.identity), "both sides build one prologue");

    let Run { messages, mut initiator, mut responder } = run(&i, &r, &bind_i, &bind_r);
    let (snow_messages, hash, key_i2r, key_r2i) = run_snow(&i, &r, &prologue);
    assert_eq!(messages, snow_messages, "our resolver gives plain snow's messages");
    assert_eq!(initiator.handshake_hash()[..], hash[..]);
    assert_eq!(responder.handshake_hash()[..], hash[..]);

    let now = Instant::now();
    let script: [(&str, &[u8]); 8] = [
        ("initiator", b"first frame i->r"),
        ("initiator", b""),
        ("responder", b"reply r->i"),
        ("initiator", &[0xff; 70]),
        ("initiator", b"after one rekey"),
        ("responder", b"r->i second"),
        ("initiator", b"after two rekeys"),
        ("responder", b"r->i after one rekey"),
    ];
    let mut frames = Vec::new();
    for (from, text) in script {
        let sender = if from == "initiator" { &mut initiator } else { &mut responder };
        let (epoch_before, counter) = (sender.send.epoch(), sender.send.sent());
        let sealed = sender.seal_to_vec(text, now).unwrap();
        let epoch = u64::from_le_bytes(sealed[..8].try_into().unwrap());
        assert!(epoch == epoch_before || epoch == epoch_before + 1);
        let receiver = if from == "initiator" { &mut responder } else { &mut initiator };
        let mut opened = sealed.clone();
        let range = receiver.recv.open(&mut opened).unwrap();
        assert_eq!(&opened[range], text);
        frames.push(Frame {
            from: from.into(),
            epoch,
            counter,
            plaintext: hex::encode(text),
            sealed: hex::encode(sealed),
        });
    }
    let i2r_1 = rekey(&key_i2r);
    Vectors {
        construction: format!("detr-aecomms/v2 {NOISE_PATTERN}"),
        description: "See client/aecomms/src/lib.rs. The initiator has the smaller PeerId. \
                      messages are Noise XX messages 1..3 (payloads: empty, the responder's \
                      certificate, the initiator's). Frames are u64le(epoch) || u64le(counter) \
                      || ChaCha20-Poly1305(key of the epoch, nonce 0u32 || u64le(counter), ad = \
                      the 16 header bytes); a sender rekeys (Noise REKEY) after \
                      rekey_after_messages frames of one epoch."
            .into(),
        protocol,
        genesis: hex::encode(genesis),
        prologue: hex::encode(&prologue),
        rekey_after_messages: REKEY_AFTER,
        initiator: party(&i),
        responder: party(&r),
        messages: messages.iter().map(hex::encode).collect(),
        handshake_hash: hex::encode(hash),
        key_i2r: hex::encode(key_i2r),
        key_r2i: hex::encode(key_r2i),
        frames,
        rekeyed: Rekeyed {
            key_i2r_epoch1: hex::encode(i2r_1),
            key_i2r_epoch2: hex::encode(rekey(&i2r_1)),
            key_r2i_epoch1: hex::encode(rekey(&key_r2i)),
        },
    }
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
    let v = generate();
    let key = |hex_key: &str| -> [u8; 32] { hex::decode(hex_key).unwrap().try_into().unwrap() };
    for frame in &v.frames {
        let mut k = key(if frame.from == "initiator" { &v.key_i2r } else { &v.key_r2i });
        for _ in 0..frame.epoch {
            k = rekey(&k);
        }
        let mut sealed = hex::decode(&frame.sealed).unwrap();
        let (head, rest) = sealed.split_at_mut(16);
        let (body, tag) = rest.split_at_mut(rest.len() - 16);
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&frame.counter.to_le_bytes());
        ChaCha20Poly1305::new((&k).into())
            .decrypt_in_place_detached(&nonce.into(), head, body, (&*tag).into())
            .unwrap();
        assert_eq!(hex::encode(body), frame.plaintext);
    }
}
