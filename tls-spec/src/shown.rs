//! How a user's value appears in a message — the one policy for xtask and xtask-tls (xtask's
//! `error::shown` is this): a password in a URL masked (`user:***@`), cut to a bounded length
//! on a character boundary with the full size said, and every character that a terminal acts
//! on or that hides or reorders text escaped (controls, bidi overrides and isolates, zero-width
//! and other invisible characters). So no message can rewrite the terminal, flood it, spoof
//! its own text, or put a secret into a CI log.

use std::path::Path;

/// The most characters of a value a message shows.
pub const SHOWN_MAX: usize = 200;

/// The most characters of free text (a problem, a hint, an error chain) a message shows: far
/// more than any message of ours, so only a value embedded whole is cut.
pub const LONG_MAX: usize = 2000;

/// A value as a message shows it: masked, bounded to [`SHOWN_MAX`], hidden characters escaped
/// (`\n`, `\u{1b}`, `\u{202e}`); quotes and other printable text left alone so paths read
/// naturally. `abc… (300000 bytes)` when cut.
pub fn shown(s: &str) -> String {
    render(s, SHOWN_MAX, Style::Plain)
}

/// [`shown`] in double quotes, with quotes and backslashes escaped too (as Rust's `{:?}`), so
/// spaces, quotes and an empty value are visible: `"a b"`, `""`. The cut note stays outside
/// the quotes: `"777…"… (300000 bytes)`.
pub fn quoted(s: &str) -> String {
    render(s, SHOWN_MAX, Style::Quoted)
}

/// Free text that may embed values: like [`shown`], but newlines and tabs kept and bounded to
/// [`LONG_MAX`].
pub fn shown_long(s: &str) -> String {
    render(s, LONG_MAX, Style::Lines)
}

/// [`shown`] with another bound: for a whole message made of values already bounded.
pub fn escaped(s: &str, max_chars: usize) -> String {
    render(s, max_chars, Style::Plain)
}

/// [`shown_long`] with another bound: a whole multi-line message made of parts already
/// bounded where they were made, cut only far beyond them so its end is never lost.
pub fn escaped_lines(s: &str, max_chars: usize) -> String {
    render(s, max_chars, Style::Lines)
}

/// `s` masked and cut to [`SHOWN_MAX`] characters (with the cut note), not escaped: for a
/// value stored to be shown later (tls-spec's `Invalid` travels to xtask as JSON). Showing it
/// again keeps the note and the full size: a cut is never cut twice.
pub fn bounded(s: &str) -> String {
    let masked = mask_password(s);
    let (head, full) = cut(&masked, SHOWN_MAX);
    match full {
        None => head.to_string(),
        Some(n) => format!("{head}{}", note(n)),
    }
}

/// [`shown`] for a path (bytes that are not UTF-8 become U+FFFD).
pub fn shown_path(p: &Path) -> String {
    shown(&p.to_string_lossy())
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Quoted,
    /// Newlines and tabs kept.
    Lines,
}

fn render(s: &str, max: usize, style: Style) -> String {
    let masked = mask_password(s);
    let (head, full) = cut(&masked, max);
    let mut out = String::with_capacity(head.len() + 2);
    if style == Style::Quoted {
        out.push('"');
    }
    for c in head.chars() {
        match c {
            '"' | '\\' if style == Style::Quoted => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\t' if style == Style::Lines => out.push(c),
            // \n, \t, \r, \0 as Rust writes them; any other as \u{…} (escape_debug would
            // leave a character it deems printable, as U+3164, raw).
            '\n' | '\t' | '\r' | '\0' => out.extend(c.escape_debug()),
            c if hidden(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    if style == Style::Quoted {
        out.push('"');
    }
    if let Some(n) = full {
        out.push_str(&note(n));
    }
    out
}

fn note(bytes: usize) -> String {
    format!("… ({bytes} bytes)")
}

/// The first `max` characters of `s` (a char boundary), and the size of the whole in bytes
/// when that is not all of it. A string already cut by [`bounded`] (its head, then exactly a
/// cut note) is its head with the size the note says.
fn cut(s: &str, max: usize) -> (&str, Option<usize>) {
    let Some((i, _)) = s.char_indices().nth(max) else {
        return (s, None);
    };
    let (head, rest) = s.split_at(i);
    let earlier = rest
        .strip_prefix("… (")
        .and_then(|r| r.strip_suffix(" bytes)"))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok());
    (head, Some(earlier.unwrap_or(s.len())))
}

/// Characters a terminal acts on, or that hide or reorder text: C0/C1 controls and DEL; the
/// bidi marks, embeddings, overrides and isolates (U+061C, U+200E/F, U+202A..U+202E,
/// U+2066..U+2069); zero-width and invisible characters (U+00AD, U+034F, U+115F/U+1160,
/// U+17B4/5, U+180B..U+180F, U+200B..U+200D, U+2028/9 line and paragraph separators,
/// U+2060..U+2064 and the deprecated format characters to U+206F, U+3164, U+FE00..U+FE0F
/// variation selectors, U+FEFF, U+FFA0, U+FFF9..U+FFFB, the tag characters U+E0000..U+E007F).
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
            | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…` (also without a scheme), in every
/// whitespace-separated word: a password typed into a URL must not reach a terminal or a log.
pub fn mask_password(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        out.push_str(&mask_word(word));
        let ws_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..ws_end]);
        rest = &tail[ws_end..];
    }
    out
}

/// One word: the user part of its authority (before the first `/` after any `scheme://`)
/// keeps the user and loses what follows its first `:`. `bob@host` (no password) and
/// `repo@sha256:…` (the `@` after a `/`) stay as they are.
fn mask_word(word: &str) -> String {
    let start = word.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = word[start..]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(word.len());
    let authority = &word[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return word.to_string();
    };
    let Some(colon) = authority[..at].find(':') else {
        return word.to_string();
    };
    format!(
        "{}{}:***{}",
        &word[..start],
        &authority[..colon],
        &word[start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped() {
        assert_eq!(shown("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(shown("\0\r\t\u{7f}\u{85}"), "\\0\\r\\t\\u{7f}\\u{85}");
        assert_eq!(shown_long("a\n\tb\r"), "a\n\tb\\r");
        assert_eq!(escaped("x\ty", 5), "x\\ty");
    }

    #[test]
    fn bidi_and_invisible_characters_are_escaped() {
        // A right-to-left override would make "exe.txt" of "txt.exe" on a terminal.
        assert_eq!(shown("a\u{202e}txt.exe"), "a\\u{202e}txt.exe");
        for c in [
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{feff}',
            '\u{61c}',
            '\u{ad}',
            '\u{2060}',
            '\u{2028}',
            '\u{2029}',
            '\u{3164}',
            '\u{e0041}',
        ] {
            let s = format!("x{c}y");
            let want = format!("x\\u{{{:x}}}y", c as u32);
            assert_eq!(shown(&s), want);
            assert_eq!(quoted(&s), format!("\"{want}\""));
            assert_eq!(shown_long(&s), want);
        }
        // Printable text, non-ASCII included, is left alone.
        assert_eq!(shown("é ü 日本 it's \"fine\""), "é ü 日本 it's \"fine\"");
    }

    #[test]
    fn quoted_is_rusts_debug_for_plain_text() {
        for s in [
            "",
            "a b",
            "x\"y",
            "back\\slash",
            "it's",
            "tab\there",
            "nl\n",
            "\u{1b}[2J",
        ] {
            assert_eq!(quoted(s), format!("{s:?}"));
        }
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_password("tcp://bob:hunter2@host:2376"),
            "tcp://bob:***@host:2376"
        );
        assert_eq!(
            mask_password("see https://u:p@r.io/x and user:pw@reg.io/a"),
            "see https://u:***@r.io/x and user:***@reg.io/a"
        );
        assert_eq!(mask_password("tcp://host:2376"), "tcp://host:2376");
        assert_eq!(mask_password("bob@host"), "bob@host");
        assert_eq!(mask_password("reg.io/a@sha256:ab"), "reg.io/a@sha256:ab");
        // Every way of showing masks.
        let url = "tcp://bob:hunter2@winbuild:2376";
        for s in [
            shown(url),
            quoted(url),
            shown_long(url),
            escaped(url, 100),
            bounded(url),
            shown_path(Path::new(url)),
        ] {
            assert!(!s.contains("hunter2"), "{s}");
            assert!(s.contains("bob:***@winbuild"), "{s}");
        }
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary_saying_so() {
        assert_eq!(shown(&"é".repeat(SHOWN_MAX)), "é".repeat(SHOWN_MAX));
        let long = "é".repeat(SHOWN_MAX + 1);
        assert_eq!(
            shown(&long),
            format!("{}… (402 bytes)", "é".repeat(SHOWN_MAX))
        );
        let q = quoted(&"7".repeat(300_000));
        assert!(q.len() < 260, "{}", q.len());
        assert!(q.ends_with("7\"… (300000 bytes)"), "{q}");
        assert_eq!(escaped("x\ty", 1), "x… (3 bytes)");
        let text = shown_long(&"line\n".repeat(1000));
        assert_eq!(text.chars().filter(|&c| c == '\n').count(), 400);
        assert!(text.ends_with("… (5000 bytes)"), "{text}");
    }

    #[test]
    fn a_cut_value_shown_again_keeps_its_size() {
        let b = bounded(&"7".repeat(300_000));
        assert_eq!(b, format!("{}… (300000 bytes)", "7".repeat(SHOWN_MAX)));
        assert_eq!(shown(&b), b);
        assert_eq!(
            quoted(&b),
            format!("\"{}\"… (300000 bytes)", "7".repeat(SHOWN_MAX))
        );
        assert_eq!(bounded(&b), b);
        // Text that only looks like a note after the bound is cut as any other.
        let fake = format!("{}… (12 bytes) and more", "7".repeat(SHOWN_MAX));
        assert!(shown(&fake).ends_with(&format!("… ({} bytes)", fake.len())));
    }
}
