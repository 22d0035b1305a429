//! What make tells xtask through MAKEFLAGS, which make puts in every recipe's environment:
//! only `-k` (keep going) is read. make writes its single-letter flags as the first word,
//! without a dash (`k`, `ks`, or `-k` in some versions), before any `--long` flag or ` -- `
//! and the command line's variables; nothing else in MAKEFLAGS is trusted or used.

/// Whether MAKEFLAGS says `make -k`.
pub fn keeps_going(makeflags: Option<&str>) -> bool {
    let Some(first) = makeflags.and_then(|m| m.split_whitespace().next()) else {
        return false;
    };
    // A first word starting with a space was skipped by split: a long flag or `--` then.
    if first.starts_with("--") || first.contains('=') {
        return false;
    }
    let letters = first.strip_prefix('-').unwrap_or(first);
    !letters.is_empty() && letters.chars().all(|c| c.is_ascii_alphabetic()) && letters.contains('k')
}

#[cfg(test)]
mod tests {
    use super::keeps_going;

    #[test]
    fn only_the_single_letter_word_counts() {
        for yes in ["k", "ks", "sk -j2 --jobserver-auth=3,4", "-k", "ik -- X=1"] {
            assert!(keeps_going(Some(yes)), "{yes}");
        }
        for no in [
            "",
            "s",
            " -- K=k",
            " --eval=k",
            "--keep-going",
            "-j2",
            "k=1",
            " -- REGISTRY=k",
        ] {
            assert!(!keeps_going(Some(no)), "{no}");
        }
        assert!(!keeps_going(None));
    }
}
