//! The committed JSON Schema of the `--json` documents (`schema/envsync-cli.schema.json`),
//! against which tests check what the real binary prints.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

/// Where the committed schema lives in the repository.
pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/envsync-cli.schema.json")
}

/// The committed schema, parsed once.
pub fn committed() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(path()).expect("schema/envsync-cli.schema.json");
        serde_json::from_str(&text).expect("the committed schema is JSON")
    })
}

/// Panics, naming the errors, unless `document` follows the definition `name` (`Status`,
/// `WatchEvent`…) or, with `None`, at least one of the documents the schema lists.
#[track_caller]
pub fn check(document: &Value, name: Option<&str>) {
    let mut root = committed().clone();
    let target = match name {
        Some(name) => {
            assert!(root["$defs"].get(name).is_some(), "no definition `{name}`");
            json!({ "$ref": format!("#/$defs/{name}") })
        }
        None => {
            let names = root["x-documents"].as_object().expect("x-documents");
            let any: Vec<Value> = names
                .values()
                .map(|name| json!({ "$ref": format!("#/$defs/{}", name.as_str().unwrap()) }))
                .collect();
            json!({ "anyOf": any })
        }
    };
    let object = root.as_object_mut().unwrap();
    for (key, value) in target.as_object().unwrap() {
        object.insert(key.clone(), value.clone());
    }
    let validator = jsonschema::validator_for(&root).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "output does not follow the schema ({}):\n{}\n{document:#}",
        name.unwrap_or("any document"),
        errors.join("\n")
    );
}
