//! `KOTAE_*` environment variables as a table of settings, laid over the
//! file. `KOTAE_MATRIX_RATE_PER_MINUTE` is `matrix.rate_per_minute`: the
//! first word names a section when there is one by that name, and the rest
//! is the key, underscores and all (which is why figment's `Env`, which
//! splits at every underscore, does not fit). `KOTAE_<KEY>_FILE` reads the
//! value from a file (the Docker-secrets convention).

use super::{SECRETS, SECTIONS, TOP_LEVEL};
use anyhow::bail;
use std::collections::{BTreeMap, HashSet};

/// The variable name of a `section.key` setting, without `KOTAE_`.
pub(super) fn name(key: &str) -> String {
    key.replace('.', "_").to_ascii_uppercase()
}

/// Turns `KOTAE_*` variables into a nested table, reading `*_FILE` files.
pub(super) fn tree(
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<BTreeMap<String, toml::Value>> {
    let vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with("KOTAE_"))
        .collect();
    let names: HashSet<&str> = vars.iter().map(|(name, _)| name.as_str()).collect();
    let mut root: BTreeMap<String, toml::Value> = BTreeMap::new();
    for (name, value) in &vars {
        let mut key = name["KOTAE_".len()..].to_ascii_lowercase();
        if key == "config" {
            continue;
        }
        let mut value = value.clone();
        if let Some(base) = key.strip_suffix("_file") {
            let plain = &name[..name.len() - "_FILE".len()];
            if names.contains(plain) {
                bail!("both {plain} and {name} are set: set only one of them");
            }
            value = read_secret_file(name, &value)?;
            key = base.to_string();
        }
        let (section, field) = match key.split_once('_') {
            Some((s, f)) if SECTIONS.contains(&s) => (Some(s.to_string()), f.to_string()),
            // Other tools share the prefix (KOTAE_SYNAPSE_VENV in the tests):
            // a variable that names no setting is not ours.
            _ if !TOP_LEVEL.contains(&key.as_str()) => continue,
            _ => (None, key),
        };
        let full_key = section
            .as_ref()
            .map_or(field.clone(), |s| format!("{s}.{field}"));
        let value = if SECRETS.contains(&full_key.as_str()) {
            toml::Value::String(value)
        } else {
            typed(&value)
        };
        match section {
            None => {
                root.insert(field, value);
            }
            Some(s) => {
                let table = root
                    .entry(s)
                    .or_insert_with(|| toml::Value::Table(Default::default()));
                if let toml::Value::Table(t) = table {
                    t.insert(field, value);
                }
            }
        }
    }
    Ok(root)
}

/// The contents of the file a `*_FILE` variable names, without a byte
/// order mark or trailing newline. The variable's value is never shown:
/// someone may have put the secret itself there by mistake.
fn read_secret_file(variable: &str, path: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the file named by {variable}: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text.trim_end().to_string())
}

/// Environment values are text; booleans, whole numbers and `[a, b]` lists
/// are read as TOML values so they fit typed settings, the rest stays text.
fn typed(value: &str) -> toml::Value {
    let v = value.trim();
    let number = !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit());
    if (number || v == "true" || v == "false" || v.starts_with('['))
        && let Ok(t) = toml::from_str::<toml::Table>(&format!("v = {v}"))
        && let Some(parsed) = t.get("v")
    {
        return parsed.clone();
    }
    toml::Value::String(value.to_string())
}
