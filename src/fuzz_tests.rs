//! Deterministic mutation tests: user-controlled text (adapter files, caller input, paths) gets a
//! value or an error, never a panic.

use crate::config::model::ValueType;

/// xorshift64: the same mutations on every run.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn mutate(&mut self, text: &str) -> String {
        const PIECES: &[&str] = &[
            "{", "}", "[", "]", ":", "- ", "\n", "  ", "$", "${", "&a", "*a", "'", "\"", "é", "€",
            "\t", "#", "|", ">", "?", ",",
        ];
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..(self.next() % 3 + 1) {
            let at = (self.next() as usize) % chars.len().max(1);
            let piece = PIECES[(self.next() as usize) % PIECES.len()];
            match self.next() % 3 {
                0 if !chars.is_empty() => {
                    chars.remove(at.min(chars.len() - 1));
                }
                _ => {
                    for (i, c) in piece.chars().enumerate() {
                        chars.insert((at + i).min(chars.len()), c);
                    }
                }
            }
        }
        chars.into_iter().collect()
    }
}

#[test]
fn mutated_adapter_files_never_panic() {
    let sources = [
        include_str!("../adapters/calculator.yaml"),
        include_str!("../adapters/crm.yaml"),
        include_str!("../tests/adapters/lab.yaml"),
    ];
    let env = |_: &str| Some("x".to_string());
    let mut m = Mutator(0x9E37_79B9_7F4A_7C15);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters/mutated.yaml");
    for source in sources {
        for _ in 0..400 {
            let text = m.mutate(source);
            let (model, _) = crate::config::decode(&text, &env, false);
            if let Some(model) = model {
                let _ = crate::plan::compile_adapter(
                    &model,
                    &dir,
                    &crate::plan::LoadOptions::default(),
                );
            }
        }
    }
}

#[test]
fn mutated_caller_input_and_paths_never_panic() {
    let samples = [
        "2024-02-29",
        "2024-02-29T10:11:12.5+01:00",
        "-12",
        "3.25",
        "true",
        "{\"a\":[1]}",
        "Items.Item[*].Name",
        "A.@id",
    ];
    let types = [
        ValueType::String,
        ValueType::Integer,
        ValueType::Number,
        ValueType::Boolean,
        ValueType::Date,
        ValueType::Datetime,
        ValueType::Json,
    ];
    let mut m = Mutator(0xD1B5_4A32_D192_ED03);
    for sample in samples {
        for _ in 0..500 {
            let text = m.mutate(sample);
            for ty in types {
                let _ = crate::mapping::coerce::from_input_text(&text, ty);
                let _ = crate::mapping::coerce::from_reply(
                    &serde_json::Value::String(text.clone()),
                    ty,
                );
            }
            let _ = crate::mapping::path::Path::parse(&text);
            let _ = crate::config::env::expand_str(&text, &|_| None, false);
        }
    }
}
