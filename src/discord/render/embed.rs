//! Discord's embed limits and the packing of parts into embeds and
//! messages: a title holds 256 characters, a description 4096, a field 1024
//! (its name 256), a footer 2048; one message carries at most ten embeds
//! and 6000 characters across them, and plain content 2000.

use crate::service::cut::count;
use poise::serenity_prelude as serenity;

/// The limits Discord sets, in characters (embeds per message aside).
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FIELDS_MAX: usize = 25;
pub const FOOTER_MAX: usize = 2048;
pub const MESSAGE_TOTAL_MAX: usize = 6000;
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const CONTENT_MAX: usize = 2000;

/// One embed, as plain data so tests can measure it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embed {
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
    pub colour: u32,
}

/// One field of an embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// The embeds of one message.
pub type Page = Vec<Embed>;

impl Embed {
    /// The characters that count toward a message's 6000.
    pub fn chars(&self) -> usize {
        let opt = |s: &Option<String>| s.as_deref().map_or(0, count);
        let fields: usize = self
            .fields
            .iter()
            .map(|f| count(&f.name) + count(&f.value))
            .sum();
        opt(&self.title) + opt(&self.description) + opt(&self.footer) + fields
    }

    /// The embed as serenity sends it.
    pub fn to_serenity(&self) -> serenity::CreateEmbed {
        let mut e = serenity::CreateEmbed::new().colour(self.colour);
        if let Some(title) = &self.title {
            e = e.title(title);
        }
        if let Some(text) = &self.description {
            e = e.description(text);
        }
        for f in &self.fields {
            e = e.field(&f.name, &f.value, false);
        }
        if let Some(footer) = &self.footer {
            e = e.footer(serenity::CreateEmbedFooter::new(footer));
        }
        e
    }

    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.fields.is_empty()
            && self.footer.is_none()
    }

    /// Whether the part's slot is free, keeping title, text, fields, footer in order.
    fn has_room(&self, part: &Part) -> bool {
        match part {
            Part::Title(_) => self.is_empty(),
            Part::Text(_) => {
                self.description.is_none() && self.fields.is_empty() && self.footer.is_none()
            }
            Part::Field(_) => self.fields.len() < FIELDS_MAX && self.footer.is_none(),
            Part::Footer(_) => self.footer.is_none(),
        }
    }

    fn add(&mut self, part: Part) {
        match part {
            Part::Title(t) => self.title = Some(t),
            Part::Text(t) => self.description = Some(t),
            Part::Field(f) => self.fields.push(f),
            Part::Footer(t) => self.footer = Some(t),
        }
    }
}

/// A piece of an embed, each already within its own limit.
pub(super) enum Part {
    Title(String),
    Text(String),
    Field(Field),
    Footer(String),
}

impl Part {
    fn chars(&self) -> usize {
        match self {
            Part::Title(t) | Part::Text(t) | Part::Footer(t) => count(t),
            Part::Field(f) => count(&f.name) + count(&f.value),
        }
    }
}

/// Lays parts out into embeds and pages; a part that does not fit opens a
/// new embed, and one that would overflow the message opens a new page.
pub(super) fn pack(parts: impl IntoIterator<Item = Part>, colour: u32) -> Vec<Page> {
    let fresh = || Embed {
        colour,
        ..Embed::default()
    };
    let (mut pages, mut page, mut embed) = (Vec::new(), Page::new(), fresh());
    for part in parts {
        let used: usize = page.iter().map(Embed::chars).sum();
        if !embed.has_room(&part) || used + embed.chars() + part.chars() > MESSAGE_TOTAL_MAX {
            let full = std::mem::replace(&mut embed, fresh());
            if !full.is_empty() {
                page.push(full);
            }
            let used: usize = page.iter().map(Embed::chars).sum();
            if page.len() == EMBEDS_PER_MESSAGE || used + part.chars() > MESSAGE_TOTAL_MAX {
                pages.push(std::mem::take(&mut page));
            }
        }
        embed.add(part);
    }
    if !embed.is_empty() {
        page.push(embed);
    }
    if !page.is_empty() {
        pages.push(page);
    }
    pages
}
