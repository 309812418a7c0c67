//! Questions read one line at a time from a byte stream (`kotae ask` and
//! `kotae chat` on standard input). A line that is not UTF-8, or absurdly
//! long, is one error naming its line; the lines after it are read as usual,
//! so one bad byte never ends a session or a batch.

use std::io::{self, BufRead};

/// Longer lines are refused (and skipped without being held in memory). Far
/// above what a question may be, so the question's own limit speaks first.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Why one line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("line {line} is not valid UTF-8 (byte {byte:#04x} at byte {at} of the line)")]
    NotUtf8 { line: usize, byte: u8, at: usize },
    #[error("line {line} is {bytes} bytes long; the limit is {MAX_LINE_BYTES}")]
    TooLong { line: usize, bytes: usize },
    #[error("cannot read line {line}: {error}")]
    Io { line: usize, error: io::Error },
}

impl LineError {
    /// The number of the line, from 1.
    pub fn line(&self) -> usize {
        match self {
            LineError::NotUtf8 { line, .. }
            | LineError::TooLong { line, .. }
            | LineError::Io { line, .. } => *line,
        }
    }
}

/// Each line of `reader` (without its line ending), or why it could not be
/// read: one item per line, so item `n` is line `n + 1`. A read error ends
/// the lines after it is yielded, since the stream cannot go on.
pub fn lines<R: BufRead>(reader: R) -> Lines<R> {
    Lines {
        reader,
        line: 0,
        done: false,
    }
}

pub struct Lines<R> {
    reader: R,
    line: usize,
    done: bool,
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<String, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut bytes = Vec::new();
        let mut length = 0;
        let mut ended = false;
        while !ended {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.done = true;
                    self.line += 1;
                    return Some(Err(LineError::Io {
                        line: self.line,
                        error,
                    }));
                }
            };
            if buf.is_empty() {
                if length == 0 {
                    self.done = true;
                    return None;
                }
                break;
            }
            let (take, used) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    ended = true;
                    (&buf[..i], i + 1)
                }
                None => (buf, buf.len()),
            };
            length += used;
            // Keep at most the limit; the rest of a long line is only counted.
            let room = (MAX_LINE_BYTES + 1).saturating_sub(bytes.len());
            bytes.extend_from_slice(&take[..take.len().min(room)]);
            self.reader.consume(used);
        }
        self.line += 1;
        let line = self.line;
        if bytes.len() > MAX_LINE_BYTES {
            return Some(Err(LineError::TooLong {
                line,
                bytes: length - usize::from(ended),
            }));
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Some(String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            LineError::NotUtf8 {
                line,
                byte: e.as_bytes()[at],
                at: at + 1,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_an_error_with_its_number_and_reading_goes_on() {
        let input: &[u8] = b"first\n\xff bad\r\n\n\xed\xa0\x80 surrogate\nlast";
        let got: Vec<Result<String, String>> =
            lines(input).map(|l| l.map_err(|e| e.to_string())).collect();
        assert_eq!(
            got,
            [
                Ok("first".to_string()),
                Err("line 2 is not valid UTF-8 (byte 0xff at byte 1 of the line)".into()),
                Ok(String::new()),
                Err("line 4 is not valid UTF-8 (byte 0xed at byte 1 of the line)".into()),
                Ok("last".to_string()),
            ]
        );
    }

    #[test]
    fn an_overlong_line_is_refused_and_the_next_is_read() {
        let mut input = vec![b'a'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext\n");
        let got: Vec<Result<String, String>> = lines(&input[..])
            .map(|l| l.map_err(|e| e.to_string()))
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            Err(format!(
                "line 1 is {} bytes long; the limit is {MAX_LINE_BYTES}",
                MAX_LINE_BYTES + 10
            ))
        );
        assert_eq!(got[1], Ok("next".to_string()));
    }
}
