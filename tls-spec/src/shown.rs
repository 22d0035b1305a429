//! How a user's value appears in a message: control characters (and the invisible
//! characters that reorder or hide text on a terminal) escaped, and cut to a bounded length,
//! so a message never carries raw escape sequences or a 300 kB value.

use std::path::Path;

/// The most characters of a value a message shows.
pub const SHOWN_MAX: usize = 200;

/// `s` cut to [`SHOWN_MAX`] characters, with a note of its full length when cut. For values
/// a formatter escapes later (xtask's BadInput debug-quotes its value).
pub fn bounded(s: &str) -> String {
    cut(s, SHOWN_MAX)
}

/// `s` bounded, with control and invisible characters escaped (`\n`, `\u{1b}`, …); quotes
/// and printable text are left alone so paths read naturally.
pub fn shown(s: &str) -> String {
    escaped(s, SHOWN_MAX)
}

/// [`shown`] with another bound: for a whole message made of values already bounded.
pub fn escaped(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in cut(s, max_chars).chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn cut(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…[{} bytes in all]", &s[..i], s.len()),
    }
}

/// [`shown`] for a path (not UTF-8 bytes become U+FFFD).
pub fn shown_path(p: &Path) -> String {
    shown(&p.to_string_lossy())
}

/// Characters a terminal would act on or that hide or reorder text.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}
