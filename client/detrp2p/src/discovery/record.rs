//! The node's signed record for `detr-discovery`, byte for byte as `go-core/discovery/record.go`
//! encodes it (pinned by `tests/vectors/discovery_record.json`).

use ed25519_dalek::{Signer, SigningKey};

const DOMAIN: &[u8] = b"detr-discovery/v1/record";
const VERSION: u8 = 1;
/// Most addresses a record carries.
pub const MAX_ADDRS: usize = 8;
/// Longest address, bytes.
pub const MAX_ADDR_LEN: usize = 96;

fn push_lp16(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// `u8 version ‖ lp16(peer id) ‖ genesis ‖ u8 roles ‖ u64le seq ‖ u8 n ‖ n × lp16(addr) ‖
/// Ed25519(key, "detr-discovery/v1/record" ‖ all before)`. Addresses beyond the bounds are left
/// out.
pub fn encode(
    key: &SigningKey,
    peer_id: &[u8],
    genesis: &[u8; 32],
    roles: u8,
    seq: u64,
    addrs: &[String],
) -> Vec<u8> {
    let addrs: Vec<&String> =
        addrs.iter().filter(|a| !a.is_empty() && a.len() <= MAX_ADDR_LEN).take(MAX_ADDRS).collect();
    let mut body = vec![VERSION];
    push_lp16(&mut body, peer_id);
    body.extend_from_slice(genesis);
    body.push(roles);
    body.extend_from_slice(&seq.to_le_bytes());
    body.push(addrs.len() as u8);
    for a in addrs {
        push_lp16(&mut body, a.as_bytes());
    }
    let signature = key.sign(&[DOMAIN, &body].concat());
    body.extend_from_slice(&signature.to_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use sc_network::config::ed25519::{Keypair, SecretKey};

    #[test]
    fn the_go_daemon_reads_what_the_node_signs() {
        let vector: serde_json::Value =
            serde_json::from_str(include_str!("../../../../tests/vectors/discovery_record.json"))
                .unwrap();
        let hex = |k: &str| hex::decode(vector[k].as_str().unwrap()).unwrap();
        let key = SigningKey::from_bytes(&hex("identity_seed").try_into().unwrap());
        let secret = SecretKey::try_from_bytes(hex("identity_seed")).unwrap();
        let peer_id = Keypair::from(secret).public().to_peer_id();
        assert_eq!(peer_id.to_bytes(), hex("peer_id"));
        let addrs: Vec<String> = serde_json::from_value(vector["addrs"].clone()).unwrap();
        let encoded = encode(
            &key,
            &peer_id.to_bytes(),
            &hex("genesis").try_into().unwrap(),
            vector["roles"].as_u64().unwrap() as u8,
            vector["seq"].as_u64().unwrap(),
            &addrs,
        );
        assert_eq!(hex::encode(encoded), vector["encoded"].as_str().unwrap());
    }
}
