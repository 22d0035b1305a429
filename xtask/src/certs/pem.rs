//! Just enough of PEM, base64 and DER to check a client cert folder cheaply, without a crypto
//! crate (xtask's cold build stays small; the tls crate does the real inspection for
//! `doctor`): which PEM blocks a file holds, and a certificate's notAfter, read by walking
//! the DER of `Certificate → tbsCertificate → validity`.

/// One `-----BEGIN LABEL-----` … `-----END LABEL-----` block: its label and decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub label: String,
    pub der: Vec<u8>,
}

/// The PEM blocks of `text` whose body is valid base64, in order; text between them is
/// ignored, as openssl and Go's pem package ignore it.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            if l.trim() == end {
                closed = true;
                break;
            }
            body.push_str(l.trim());
        }
        if let (true, Some(der)) = (closed, base64(&body)) {
            out.push(Block {
                label: label.to_string(),
                der,
            });
        }
    }
    out
}

/// Standard base64 (with `=` padding, whitespace ignored); None when it is not base64.
pub fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return None,
        };
        if padding > 0 {
            return None; // data after padding
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits must be the zero fill of the last group, and padding at most two.
    if padding > 2 || bits >= 6 || acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

/// One DER element: its tag byte and contents; `rest` is what follows it.
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
    rest: &'a [u8],
}

fn tlv(b: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n]
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        b = &b[n..];
        len
    };
    if b.len() < len {
        return None;
    }
    Some(Tlv {
        tag,
        body: &b[..len],
        rest: &b[len..],
    })
}

const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// A certificate's notAfter in seconds since the Unix epoch (UTC), or None when the DER is
/// not a certificate this walk understands.
pub fn not_after(cert_der: &[u8]) -> Option<i64> {
    let cert = tlv(cert_der).filter(|t| t.tag == SEQUENCE)?;
    let tbs = tlv(cert.body).filter(|t| t.tag == SEQUENCE)?;
    let mut fields = tbs.body;
    // [0] EXPLICIT version, present in every v3 certificate.
    let first = tlv(fields)?;
    if first.tag == 0xa0 {
        fields = first.rest;
    }
    // serialNumber, signature, issuer, then validity.
    for _ in 0..3 {
        fields = tlv(fields)?.rest;
    }
    let validity = tlv(fields).filter(|t| t.tag == SEQUENCE)?;
    let not_before = tlv(validity.body)?;
    let not_after = tlv(not_before.rest)?;
    time(not_after.tag, not_after.body)
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn time(tag: u8, body: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(body).ok()?;
    let digits = s.strip_suffix('Z')?;
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r)?.parse::<i64>().ok();
    let (year, rest) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = num(0..2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        (GENERALIZED_TIME, 14) => (num(0..4)?, 4),
        _ => return None,
    };
    let field = |i: usize| num(rest + 2 * i..rest + 2 * i + 2);
    let (month, day, hour, min, sec) = (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM UTC` of seconds since the epoch, for messages.
pub fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        tod / 3600,
        tod % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_and_refuses() {
        assert_eq!(base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("aGVs\nbG8h").as_deref(), Some(&b"hello!"[..]));
        assert_eq!(base64("").as_deref(), Some(&b""[..]));
        assert_eq!(base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("a*b="), None);
        assert_eq!(base64("aGVsbG9="), None, "non-zero fill bits");
        assert_eq!(base64("aG=Vs"), None);
    }

    #[test]
    fn pem_blocks_need_begin_end_and_base64() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n\
                    -----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n\
                    -----BEGIN EC PRIVATE KEY-----\naGk=\n";
        let b = blocks(text);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].label, "CERTIFICATE");
        assert_eq!(b[0].der, b"hello");
        assert!(blocks("not a real cert\n").is_empty());
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(time(UTC_TIME, b"231114221320Z"), Some(1_700_000_000));
        assert_eq!(
            time(GENERALIZED_TIME, b"20231114221320Z"),
            Some(1_700_000_000)
        );
        assert_eq!(time(UTC_TIME, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(UTC_TIME, b"991301000000Z"), None);
        assert_eq!(time(GENERALIZED_TIME, b"2023111422132Z"), None);
    }

    /// A real certificate, made by `cargo xtask tls` (rcgen), as the tool meets it.
    const TLS_CERT: &str = include_str!("testdata/client-cert.pem");

    #[test]
    fn not_after_of_a_certificate_made_by_cargo_xtask_tls() {
        let b = blocks(TLS_CERT);
        assert_eq!(b.len(), 1);
        let secs = not_after(&b[0].der).expect("a certificate");
        assert_eq!(
            date(secs),
            include_str!("testdata/client-cert.not-after").trim()
        );
        assert_eq!(not_after(b"\x30\x03\x02\x01\x01"), None);
        assert_eq!(not_after(&b[0].der[..40]), None);
    }
}
