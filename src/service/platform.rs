//! The chat platforms kotae runs on, named once: records, metrics and
//! `/healthz` all use [`Platform::as_str`].

use std::fmt;

/// Where a question came from and where its answer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    /// `kotae chat`, the terminal.
    Console,
    Discord,
    Matrix,
}

impl Platform {
    /// The name in records, metric labels and `/healthz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Discord => "discord",
            Platform::Matrix => "matrix",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
