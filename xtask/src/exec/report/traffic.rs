//! The bytes a step moved, read back from its log where docker says them. BuildKit's plain
//! progress names each blob it transfers with its progress, `#7 sha256:… 10.49MB / 31.46MB
//! 0.3s`, inside a vertex whose title says what it does (`#7 [internal] load metadata`,
//! `#12 pushing layers`); the last total per blob is what moved. A vertex whose title mentions
//! pushing counts as pushed, every other one as pulled. The classic builder and `docker push`
//! print no sizes for layers (only `Pushed`), so their steps say nothing: the timeline then
//! shows no figure rather than a guess.

use std::collections::BTreeMap;

/// Bytes pushed and pulled, as docker's output says them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    pub pushed: u64,
    pub pulled: u64,
}

/// Reads a step log's text. None when docker said no size at all.
pub fn of_log(text: &str) -> Option<Traffic> {
    // vertex → title; (vertex, blob) → last total seen.
    let mut titles: BTreeMap<&str, String> = BTreeMap::new();
    let mut blobs: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some((vertex, body)) = rest.split_once(' ') else {
            continue;
        };
        if !vertex.bytes().all(|b| b.is_ascii_digit()) || vertex.is_empty() {
            continue;
        }
        let words: Vec<&str> = body.split_whitespace().collect();
        // `sha256:… 10.49MB / 31.46MB …` or `pushing layer sha256:… 1.2MB / 1.2MB …`
        let at = words.iter().position(|w| w.starts_with("sha256:"));
        match at {
            Some(i) if words.get(i + 2) == Some(&"/") => {
                if let Some(total) = words.get(i + 3).and_then(|w| size(w)) {
                    blobs.insert((vertex, words[i]), total);
                }
                if i > 0 {
                    // The blob's own words say what it is (`pushing layer sha256:…`).
                    titles.entry(vertex).or_insert_with(|| words[..i].join(" "));
                }
            }
            _ => {
                let is_status = words.first().is_some_and(|w| {
                    *w == "DONE" || *w == "CACHED" || *w == "ERROR" || w.starts_with("...")
                });
                if !is_status && !words.is_empty() {
                    titles.entry(vertex).or_insert_with(|| body.to_string());
                }
            }
        }
    }
    if blobs.is_empty() {
        return None;
    }
    let mut t = Traffic::default();
    for ((vertex, _), bytes) in blobs {
        let pushing = titles
            .get(vertex)
            .is_some_and(|title| title.to_ascii_lowercase().contains("push"));
        if pushing {
            t.pushed += bytes;
        } else {
            t.pulled += bytes;
        }
    }
    Some(t)
}

/// `31.46MB`, `512B`, `1.2kB`, `2GB` (BuildKit's units are powers of 1000) → bytes.
fn size(word: &str) -> Option<u64> {
    let split = word.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = word.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((n * mult).round() as u64)
}

/// Bytes for a person: `31.5 MB`, `900 B`.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulls_and_pushes_from_buildkit_progress() {
        let log = "\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#5 [stage-0 1/2] FROM 127.0.0.1:5000/e2e/base:1809@sha256:aa
#5 sha256:1111111111 1.05MB / 31.46MB 0.2s
#5 sha256:1111111111 31.46MB / 31.46MB 0.9s done
#5 sha256:2222222222 512B / 512B 0.1s done
#5 DONE 1.2s
#9 exporting to image
#9 pushing layers
#10 pushing layers
#10 pushing layer sha256:3333333333 2.1MB / 2.1MB 0.1s done
#10 DONE 0.4s
";
        assert_eq!(
            of_log(log),
            Some(Traffic {
                pushed: 2_100_000,
                pulled: 31_460_512
            })
        );
    }

    #[test]
    fn no_sizes_no_figure() {
        assert_eq!(
            of_log("The push refers to repository [r/i]\nabc: Pushed\n1.0: digest: sha256:ab size: 739\n"),
            None
        );
        assert_eq!(of_log(""), None);
    }

    #[test]
    fn units() {
        assert_eq!(size("1.5kB"), Some(1500));
        assert_eq!(size("2GB"), Some(2_000_000_000));
        assert_eq!(size("3MiB"), Some(3 * 1024 * 1024));
        assert_eq!(size("x"), None);
        assert_eq!(human(31_460_512), "31.5 MB");
        assert_eq!(human(900), "900 B");
    }
}
