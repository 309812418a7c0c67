//! The platform-neutral heart of kotae: the fact base ([`knowledge`], loaded
//! and validated by [`load`]), text normalisation ([`text`]), what a chat
//! message asks ([`focus`]) and language detection ([`lang`]), retrieval
//! ([`matcher`]) and the reply model
//! ([`reply`], with the bot's own words in [`messages`]); [`semantic`] adds
//! an embedding model's view when one is configured (the vectors come from
//! outside the core). [`timeline`] lists the fact base's dated events in
//! date order.
//!
//! [`Kotae`] ties them together behind one call, [`Kotae::ask`], and holds
//! the current fact base behind an atomic pointer so a reload never
//! disturbs a question in flight.

pub mod focus;
pub mod input;
pub mod knowledge;
pub mod lang;
pub mod lint;
pub mod load;
pub mod matcher;
pub mod messages;
mod parallel;
pub mod reply;
pub mod semantic;
pub mod text;
pub mod timeline;

mod kotae;

pub use knowledge::{Fact, FactBase, Reliability, Source, Status};
pub use kotae::{
    AskError, Correction, Kotae, LangChoice, MAX_QUESTION_CHARS, MAX_SUGGESTIONS, QuestionVector,
    Snapshot,
};
pub use lang::Lang;
pub use matcher::Matcher;
pub use reply::{Answer, Outcome, Reply, Suggestion};
