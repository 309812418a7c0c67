//! What Discord checks in a request body before it does anything with it,
//! and its refusal: 400 `50035 Invalid Form Body`, with every problem at
//! its path in the body, as Discord shapes it:
//!
//! ```json
//! {"code": 50035, "message": "Invalid Form Body",
//!  "errors": {"embeds": {"0": {"description": {"_errors": [
//!      {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]}}}}}
//! ```
//!
//! Messages (channel messages, interaction responses, follow-ups, edits):
//! content 2,000 characters; at most 10 embeds; a title 256, a description
//! 4,096, at most 25 fields, a field's name 256 and value 1,024 (both
//! required), a footer 2,048, an author's name 256; and 6,000 characters
//! across all the embeds of a message. A message with nothing in it is
//! `50006 Cannot send an empty message`.
//!
//! Commands (the bulk overwrite of application commands): names of 1–32
//! letters, digits, `-` or `_`, lowercase where the letter has a case;
//! descriptions of 1–100 characters; the same for every localisation (whose
//! locale must be one Discord knows) and every option; at most 25 options
//! and 25 choices; required options before optional ones; 4,000 characters
//! of names, descriptions and choices per command; `integration_types` and
//! `contexts` from Discord's lists.
//!
//! Characters are counted as Discord counts them: Unicode scalar values.
//! The name pattern Discord documents is `^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`;
//! without a regex crate, "letter" here is Rust's `char::is_alphanumeric`,
//! which accepts the same names for every script kotae uses.

use serde_json::{Value, json};

pub const CONTENT_MAX: usize = 2000;
pub const EMBEDS_MAX: usize = 10;
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 2048;
pub const AUTHOR_MAX: usize = 256;
pub const EMBED_TOTAL_MAX: usize = 6000;
pub const COMMAND_NAME_MAX: usize = 32;
pub const COMMAND_DESCRIPTION_MAX: usize = 100;
pub const OPTIONS_MAX: usize = 25;
pub const CHOICES_MAX: usize = 25;
pub const CHOICE_NAME_MAX: usize = 100;
pub const COMMAND_TOTAL_MAX: usize = 4000;
/// `max_length` of a string option may be 1 to this.
pub const OPTION_LENGTH_MAX: u64 = 6000;

/// The locales Discord accepts in `name_localizations` and
/// `description_localizations`.
const LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

/// Every problem found in one body, each at its path.
#[derive(Debug, Default)]
pub struct Problems(Vec<(Vec<String>, &'static str, String)>);

impl Problems {
    fn add(&mut self, path: &[String], code: &'static str, message: String) {
        self.0.push((path.to_vec(), code, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Discord's `errors` object: each path a chain of objects ending in
    /// `_errors`.
    fn errors(&self) -> Value {
        let mut root = json!({});
        for (path, code, message) in &self.0 {
            let mut at = &mut root;
            for key in path {
                at = at
                    .as_object_mut()
                    .expect("an object")
                    .entry(key.clone())
                    .or_insert_with(|| json!({}));
            }
            let list = at
                .as_object_mut()
                .expect("an object")
                .entry("_errors")
                .or_insert_with(|| json!([]));
            list.as_array_mut()
                .expect("a list")
                .push(json!({"code": code, "message": message}));
        }
        root
    }

    /// The 400 body Discord answers, or None when nothing is wrong.
    pub fn refusal(&self) -> Option<Value> {
        (!self.is_empty()).then(
            || json!({"code": 50035, "errors": self.errors(), "message": "Invalid Form Body"}),
        )
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn child(path: &[String], key: impl ToString) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_string());
    p
}

/// A string at most `max` characters long, if present.
fn at_most(p: &mut Problems, path: &[String], v: &Value, max: usize) {
    if chars(v) > max {
        p.add(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
    }
}

/// A required string of `min` to `max` characters.
fn between(p: &mut Problems, path: &[String], v: &Value, min: usize, max: usize) {
    if !v.is_string() {
        p.add(path, "BASE_TYPE_REQUIRED", "This field is required".into());
    } else if !(min..=max).contains(&chars(v)) {
        p.add(
            path,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        );
    }
}

/// A list of at most `max` items, if present.
fn list_at_most(p: &mut Problems, path: &[String], v: &Value, max: usize) -> Vec<Value> {
    let items = v.as_array().cloned().unwrap_or_default();
    if items.len() > max {
        p.add(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
    }
    items
}

/// The problems of a message body (create or edit) at `path`.
pub fn message(p: &mut Problems, path: &[String], body: &Value) {
    at_most(p, &child(path, "content"), &body["content"], CONTENT_MAX);
    let at = child(path, "embeds");
    let embeds = list_at_most(p, &at, &body["embeds"], EMBEDS_MAX);
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        total += embed(p, &child(&at, i), e);
    }
    if total > EMBED_TOTAL_MAX {
        p.add(
            &at,
            "MAX_EMBED_SIZE_EXCEEDED",
            format!("Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"),
        );
    }
}

/// One embed's problems; returns the characters it counts toward the
/// message's 6,000.
fn embed(p: &mut Problems, path: &[String], e: &Value) -> usize {
    at_most(p, &child(path, "title"), &e["title"], TITLE_MAX);
    at_most(
        p,
        &child(path, "description"),
        &e["description"],
        DESCRIPTION_MAX,
    );
    let footer = &e["footer"]["text"];
    at_most(
        p,
        &child(&child(path, "footer"), "text"),
        footer,
        FOOTER_MAX,
    );
    let author = &e["author"]["name"];
    at_most(
        p,
        &child(&child(path, "author"), "name"),
        author,
        AUTHOR_MAX,
    );
    let at = child(path, "fields");
    let fields = list_at_most(p, &at, &e["fields"], FIELDS_MAX);
    let mut total = chars(&e["title"]) + chars(&e["description"]) + chars(footer) + chars(author);
    for (i, f) in fields.iter().enumerate() {
        let at = child(&at, i);
        between(p, &child(&at, "name"), &f["name"], 1, FIELD_NAME_MAX);
        between(p, &child(&at, "value"), &f["value"], 1, FIELD_VALUE_MAX);
        total += chars(&f["name"]) + chars(&f["value"]);
    }
    total
}

/// Whether a message body has nothing to show (Discord: 50006).
pub fn is_empty_message(body: &Value) -> bool {
    let content = body["content"].as_str().is_some_and(|c| !c.is_empty());
    let embeds = body["embeds"].as_array().is_some_and(|e| !e.is_empty());
    let other = ["attachments", "components", "sticker_ids", "poll"]
        .iter()
        .any(|k| body[*k].as_array().is_some_and(|a| !a.is_empty()) || body[*k].is_object());
    !content && !embeds && !other
}

/// The problems of an interaction callback: a message response (4), an
/// update (7) or autocomplete choices (8), under `data`.
pub fn callback(body: &Value) -> Problems {
    let mut p = Problems::default();
    let data = vec!["data".to_string()];
    match body["type"].as_u64() {
        Some(4 | 7) => message(&mut p, &data, &body["data"]),
        Some(8) => {
            let at = child(&data, "choices");
            let choices = list_at_most(&mut p, &at, &body["data"]["choices"], CHOICES_MAX);
            for (i, c) in choices.iter().enumerate() {
                choice(&mut p, &child(&at, i), c);
            }
        }
        _ => {}
    }
    p
}

/// The problems of a message body at the top of a request.
pub fn message_body(body: &Value) -> Problems {
    let mut p = Problems::default();
    message(&mut p, &[], body);
    p
}

/// The problems of a bulk overwrite of application commands.
pub fn commands(body: &Value) -> Problems {
    let mut p = Problems::default();
    let Some(list) = body.as_array() else {
        p.add(
            &[],
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType".into(),
        );
        return p;
    };
    let mut names = std::collections::HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let at = vec![i.to_string()];
        command(&mut p, &at, c);
        let key = (
            c["type"].as_u64().unwrap_or(1),
            c["name"].as_str().unwrap_or_default(),
        );
        if !names.insert(key) {
            p.add(
                &child(&at, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                format!("Application command names must be unique: {}", key.1),
            );
        }
    }
    p
}

/// One command's problems.
fn command(p: &mut Problems, path: &[String], c: &Value) {
    let chat_input = c["type"].as_u64().unwrap_or(1) == 1;
    name_and_description(p, path, c, chat_input);
    allowed(
        p,
        &child(path, "integration_types"),
        &c["integration_types"],
        &[0, 1],
    );
    allowed(p, &child(path, "contexts"), &c["contexts"], &[0, 1, 2]);
    let total = options(p, &child(path, "options"), &c["options"]);
    if chars(&c["name"]) + chars(&c["description"]) + total > COMMAND_TOTAL_MAX {
        p.add(
            path,
            "APPLICATION_COMMAND_TOO_LARGE",
            format!("Command exceeds maximum size ({COMMAND_TOTAL_MAX})"),
        );
    }
}

/// A name (and description, for slash commands and options) with their
/// localisations.
fn name_and_description(p: &mut Problems, path: &[String], v: &Value, described: bool) {
    command_name(p, &child(path, "name"), &v["name"], described);
    let at = child(path, "name_localizations");
    for (locale, name) in localisations(p, &at, &v["name_localizations"]) {
        command_name(p, &child(&at, &locale), &name, described);
    }
    if !described {
        return;
    }
    let max = COMMAND_DESCRIPTION_MAX;
    between(p, &child(path, "description"), &v["description"], 1, max);
    let at = child(path, "description_localizations");
    for (locale, text) in localisations(p, &at, &v["description_localizations"]) {
        between(p, &child(&at, &locale), &text, 1, max);
    }
}

/// The entries of a localisation map, each locale checked.
fn localisations(p: &mut Problems, path: &[String], map: &Value) -> Vec<(String, Value)> {
    let entries: Vec<(String, Value)> = map
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (locale, _) in &entries {
        if !LOCALES.contains(&locale.as_str()) {
            p.add(
                &child(path, locale),
                "ENUM_TYPE_COERCE",
                format!("Value \"{locale}\" is not a valid enum value."),
            );
        }
    }
    entries
}

/// Discord's `^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lowercase
/// for slash commands and options.
fn command_name(p: &mut Problems, path: &[String], name: &Value, lowercase: bool) {
    let Some(text) = name.as_str() else {
        p.add(path, "BASE_TYPE_REQUIRED", "This field is required".into());
        return;
    };
    let count = text.chars().count();
    let allowed = text
        .chars()
        .all(|c| c == '-' || c == '_' || c.is_alphanumeric());
    let cased = !lowercase || text.to_lowercase() == text;
    if !(1..=COMMAND_NAME_MAX).contains(&count) || !allowed || !cased {
        p.add(
            path,
            "APPLICATION_COMMAND_INVALID_NAME",
            format!("Command name is invalid: {text:?}"),
        );
    }
}

/// Numbers from a fixed list, if the list is present.
fn allowed(p: &mut Problems, path: &[String], v: &Value, values: &[u64]) {
    for (i, item) in v.as_array().into_iter().flatten().enumerate() {
        if !item.as_u64().is_some_and(|n| values.contains(&n)) {
            p.add(
                &child(path, i),
                "ENUM_TYPE_COERCE",
                format!("Value \"{item}\" is not a valid enum value."),
            );
        }
    }
}

/// The options of a command (or sub-command); returns the characters of
/// their names, descriptions and choices.
fn options(p: &mut Problems, path: &[String], v: &Value) -> usize {
    let list = list_at_most(p, path, v, OPTIONS_MAX);
    let mut optional_seen = false;
    let mut total = 0;
    for (i, o) in list.iter().enumerate() {
        let at = child(path, i);
        name_and_description(p, &at, o, true);
        let required = o["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            p.add(
                &child(&at, "required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options".into(),
            );
        }
        optional_seen |= !required;
        if let Some(max) = o["max_length"].as_u64()
            && !(1..=OPTION_LENGTH_MAX).contains(&max)
        {
            p.add(
                &child(&at, "max_length"),
                "NUMBER_TYPE_MAX",
                format!("int value should be between 1 and {OPTION_LENGTH_MAX}."),
            );
        }
        total += chars(&o["name"]) + chars(&o["description"]);
        let choices_at = child(&at, "choices");
        for (j, c) in list_at_most(p, &choices_at, &o["choices"], CHOICES_MAX)
            .iter()
            .enumerate()
        {
            choice(p, &child(&choices_at, j), c);
            total += chars(&c["name"]) + c["value"].as_str().map_or(0, |s| s.chars().count());
        }
        total += options(p, &child(&at, "options"), &o["options"]);
    }
    total
}

/// An option's (or autocomplete's) choice: a name of 1–100 characters and
/// a string value of at most 100.
fn choice(p: &mut Problems, path: &[String], c: &Value) {
    between(p, &child(path, "name"), &c["name"], 1, CHOICE_NAME_MAX);
    at_most(p, &child(path, "value"), &c["value"], CHOICE_NAME_MAX);
    let at = child(path, "name_localizations");
    for (locale, name) in localisations(p, &at, &c["name_localizations"]) {
        between(p, &child(&at, &locale), &name, 1, CHOICE_NAME_MAX);
    }
}
