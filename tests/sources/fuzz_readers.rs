//! The state and capture readers on damaged and crafted documents (proptest): real
//! files with bytes flipped, cut, repeated or nested deeper, and legacy flat maps of
//! random keys. Whatever the input, a reader returns a value or an error: no panic,
//! no abort (a stack overflow would kill this test binary), no hang.

use proptest::prelude::*;

use driftd::sources::live_file::parse_capture;
use driftd::sources::terraform::parse_state;

/// Real documents to damage: the chain's state and captures, a state of every
/// resource shape, and a real legacy state with flat maps from the shared corpus.
fn seeds() -> Vec<Vec<u8>> {
    let mut paths = vec![
        "examples/ecs-chain.tfstate",
        "tests/fixtures/terraform/shapes.tfstate",
        "tests/fixtures/ecs-chain/clean-groups.json",
        "tests/fixtures/ecs-chain/clean-rules.json",
    ];
    let corpus = "../shared/corpus/tfstate/008.tfstate";
    if std::path::Path::new(corpus).exists() {
        paths.push(corpus);
    }
    paths
        .into_iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect()
}

#[derive(Debug, Clone)]
enum Damage {
    /// Overwrite the byte at this fraction of the document.
    Flip(f64, u8),
    /// Keep this fraction of the document.
    Truncate(f64),
    /// Repeat a short stretch in place.
    Repeat(f64, usize, usize),
    /// Insert this many `[` (or `{"a":`) at a point: nesting past any limit.
    Nest(f64, usize, bool),
    /// Put a byte-order mark or a NUL up front.
    Prefix(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0.0..1.0f64, any::<u8>()).prop_map(|(at, b)| Damage::Flip(at, b)),
        (0.0..1.0f64).prop_map(Damage::Truncate),
        (0.0..1.0f64, 1..64usize, 1..8usize).prop_map(|(at, len, n)| Damage::Repeat(at, len, n)),
        (0.0..1.0f64, 1..20_000usize, any::<bool>()).prop_map(|(at, n, o)| Damage::Nest(at, n, o)),
        prop::collection::vec(
            prop_oneof![
                Just(0u8),
                Just(0xEF),
                Just(0xBB),
                Just(0xBF),
                Just(0xFF),
                Just(0xFE)
            ],
            1..4
        )
        .prop_map(Damage::Prefix),
    ]
}

fn at(len: usize, fraction: f64) -> usize {
    ((len as f64) * fraction) as usize
}

fn apply(mut doc: Vec<u8>, damage: &Damage) -> Vec<u8> {
    let len = doc.len();
    match damage {
        Damage::Flip(f, byte) if len > 0 => doc[at(len, *f).min(len - 1)] = *byte,
        Damage::Flip(..) => {}
        Damage::Truncate(f) => doc.truncate(at(len, *f)),
        Damage::Repeat(f, stretch, times) => {
            let start = at(len, *f);
            let end = (start + stretch).min(len);
            let piece = doc[start..end].repeat(*times);
            doc.splice(start..start, piece);
        }
        Damage::Nest(f, depth, objects) => {
            let unit: &[u8] = if *objects { b"{\"a\":" } else { b"[" };
            let start = at(len, *f);
            doc.splice(start..start, unit.repeat(*depth));
        }
        Damage::Prefix(bytes) => {
            doc.splice(0..0, bytes.iter().copied());
        }
    }
    doc
}

/// Parses with both readers on a 2 MiB stack, as `serve`'s scans run.
fn read_both(doc: Vec<u8>) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let _ = parse_state("fuzz.tfstate", &doc);
            let _ = parse_capture("fuzz.json", &doc);
        })
        .unwrap()
        .join()
        .expect("no reader panics");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn damaged_real_documents_never_crash_a_reader(
        seed in 0..5usize,
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let seeds = seeds();
        let mut doc = seeds[seed % seeds.len()].clone();
        for d in &damages {
            doc = apply(doc, d);
        }
        read_both(doc);
    }

    /// Flat maps of random keys: list and map markers (`#`, `%`) anywhere, numbers
    /// and words, shallow and far past the depth bound.
    #[test]
    fn random_flat_maps_never_crash_the_state_reader(
        keys in prop::collection::vec(
            (prop::collection::vec(prop_oneof![
                Just("#".to_string()), Just("%".to_string()), Just("0".to_string()),
                Just("12".to_string()), Just("ingress".to_string()), Just("cidr_blocks".to_string()),
                Just("from_port".to_string()), Just("".to_string()), "[a-z]{1,3}",
            ], 1..120), "[0-9a-z./-]{0,6}"),
            0..40,
        ),
        // One key far past the bound, as the crafted state that aborted `serve`.
        deep in prop::option::of(2_000..9_000usize),
    ) {
        let mut flat = serde_json::Map::new();
        flat.insert("id".into(), "sg-0123".into());
        if let Some(segments) = deep {
            flat.insert(vec!["ingress"; segments].join("."), "x".into());
        }
        for (segments, value) in keys {
            flat.insert(segments.join("."), value.into());
        }
        for kind in ["aws_security_group", "aws_security_group_rule", "aws_default_security_group"] {
            let state = serde_json::json!({
                "version": 4,
                "resources": [{
                    "mode": "managed", "type": kind, "name": "x",
                    "instances": [{"attributes_flat": flat}]
                }]
            });
            read_both(serde_json::to_vec(&state).unwrap());
        }
    }
}
