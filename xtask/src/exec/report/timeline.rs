//! The run drawn as a timeline: one HTML page with an inline SVG (no JavaScript, no external
//! file), each step a bar on its lane (`node 1809`, `local`, …) from when it started for as
//! long as it ran, coloured by how it ended, labelled with its seconds and the bytes docker
//! said it pushed and pulled; steps that never ran are listed under the chart. Built from the
//! run report's JSON alone (plus the step logs' byte counts, `traffic`), so any report a run
//! wrote can be drawn later. Reports written before steps carried `started_seconds` are laid
//! out end to end on each lane, and the page says so.

use std::fmt::Write as _;

use serde_json::Value;

use super::traffic::{human, Traffic};

const LEFT: f64 = 120.0; // lane names
const WIDTH: f64 = 1100.0; // the chart's drawing width
const ROW: f64 = 26.0;
const TOP: f64 = 30.0; // the time axis

/// One bar.
struct Bar<'a> {
    step: &'a Value,
    lane: String,
    start: f64,
    secs: f64,
    traffic: Option<Traffic>,
}

/// The page for a report document; `traffic` has one entry per step (None: docker said no
/// sizes, or no log).
pub fn html(doc: &Value, traffic: &[Option<Traffic>]) -> Result<String, String> {
    let steps = doc["steps"]
        .as_array()
        .ok_or("not a run report: it has no \"steps\" array")?;
    if doc["format_version"].as_u64().is_none() {
        return Err("not a run report: it has no \"format_version\"".into());
    }
    let total = doc["seconds"].as_f64().unwrap_or(0.0);
    let estimated = steps
        .iter()
        .any(|s| s["seconds"].is_number() && !s["started_seconds"].is_number());

    // Lanes in order of first appearance; bars where the step ran.
    let mut lanes: Vec<String> = Vec::new();
    let mut cursor: Vec<f64> = Vec::new(); // per lane, for reports without start times
    let mut bars: Vec<Bar> = Vec::new();
    let mut never: Vec<&Value> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let lane = s["node"].as_str().unwrap_or("?").to_string();
        let li = match lanes.iter().position(|l| *l == lane) {
            Some(li) => li,
            None => {
                lanes.push(lane.clone());
                cursor.push(0.0);
                lanes.len() - 1
            }
        };
        let Some(secs) = s["seconds"].as_f64() else {
            never.push(s);
            continue;
        };
        let start = s["started_seconds"].as_f64().unwrap_or(cursor[li]);
        cursor[li] = start + secs;
        bars.push(Bar {
            step: s,
            lane,
            start,
            secs,
            traffic: traffic.get(i).copied().flatten(),
        });
    }
    let span = bars
        .iter()
        .map(|b| b.start + b.secs)
        .fold(total, f64::max)
        .max(0.001);
    let scale = WIDTH / span;

    // One row per step, grouped by lane, in order of start: a label never hides another bar.
    bars.sort_by(|a, b| {
        let la = lanes.iter().position(|l| *l == a.lane);
        let lb = lanes.iter().position(|l| *l == b.lane);
        la.cmp(&lb).then(a.start.total_cmp(&b.start))
    });
    let mut rows_of: Vec<Vec<f64>> = vec![Vec::new(); lanes.len()];
    let mut placed: Vec<(usize, usize)> = Vec::new(); // (lane, row) per bar
    for b in &bars {
        let li = lanes.iter().position(|l| *l == b.lane).unwrap_or(0);
        rows_of[li].push(b.start + b.secs);
        placed.push((li, rows_of[li].len() - 1));
    }
    let lane_top: Vec<f64> = rows_of
        .iter()
        .scan(TOP, |y, rows| {
            let top = *y;
            *y += ROW * rows.len().max(1) as f64 + 8.0;
            Some(top)
        })
        .collect();
    let height = lane_top.last().copied().unwrap_or(TOP)
        + ROW * rows_of.last().map_or(1, |r| r.len().max(1)) as f64
        + 16.0;

    let mut svg = String::new();
    let w = LEFT + WIDTH + 20.0;
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{height:.0}" viewBox="0 0 {w:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    // Time axis: about ten ticks at a round step.
    let tick = nice_step(span / 10.0);
    let mut t = 0.0;
    while t <= span + 1e-9 {
        let x = LEFT + t * scale;
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="#555">{}s</text>"##,
            TOP - 6.0,
            height - 10.0,
            TOP - 10.0,
            trim(t)
        );
        t += tick;
    }
    for (li, lane) in lanes.iter().enumerate() {
        let y = lane_top[li];
        let h = ROW * rows_of[li].len().max(1) as f64;
        let _ = writeln!(
            svg,
            r##"<rect x="0" y="{y:.1}" width="{w:.0}" height="{h:.1}" fill="{}"/><text x="8" y="{:.1}" font-weight="bold">{}</text>"##,
            if li % 2 == 0 { "#f6f8fa" } else { "#ffffff" },
            y + 17.0,
            esc(lane)
        );
    }
    for (b, &(li, row)) in bars.iter().zip(&placed) {
        let state = b.step["state"].as_str().unwrap_or("?");
        let x = LEFT + b.start * scale;
        let bw = (b.secs * scale).max(2.0);
        let y = lane_top[li] + row as f64 * ROW + 3.0;
        let label = bar_label(b);
        let tip = tooltip(b, state);
        let _ = writeln!(
            svg,
            r##"<g><title>{}</title><rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" rx="3" fill="{}" stroke="#333" stroke-width="0.5"/>"##,
            esc(&tip),
            ROW - 6.0,
            colour(state)
        );
        // The label inside the bar when it fits, else after it, else (at the right edge)
        // before it.
        let room = label.chars().count() as f64 * 6.6;
        let (tx, fill, anchor) = if room < bw {
            (x + 4.0, "#fff", "start")
        } else if x + bw + 4.0 + room < LEFT + WIDTH + 20.0 {
            (x + bw + 4.0, "#222", "start")
        } else {
            (x - 4.0, "#222", "end")
        };
        let _ = writeln!(
            svg,
            r#"<text x="{tx:.1}" y="{:.1}" fill="{fill}" text-anchor="{anchor}">{}</text></g>"#,
            y + 14.0,
            esc(&label)
        );
    }
    svg.push_str("</svg>\n");

    let mut page = String::new();
    let title = format!(
        "xtask {} ({}) — {} in {}s",
        doc["target"].as_str().unwrap_or("?"),
        doc["mode"].as_str().unwrap_or("?"),
        doc["result"].as_str().unwrap_or("?"),
        trim(total)
    );
    let _ = writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-serif;margin:16px;color:#222}} table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}} .k{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}}</style></head><body>",
        esc(&title)
    );
    let _ = writeln!(page, "<h2>{}</h2>", esc(&title));
    let _ = writeln!(
        page,
        "<p>registry {} · started {} · finished {} · exit {}{}</p>",
        esc(doc["registry"].as_str().unwrap_or("?")),
        esc(doc["started"].as_str().unwrap_or("?")),
        esc(doc["finished"].as_str().unwrap_or("?")),
        doc["exit_code"],
        doc["error"]
            .as_str()
            .map(|e| format!(" · <b>{}</b>", esc(first_line(e))))
            .unwrap_or_default()
    );
    if estimated {
        page.push_str("<p><i>This report has no start times (written by an older xtask): each lane's steps are drawn end to end.</i></p>\n");
    }
    page.push_str("<p>");
    for s in ["ok", "skipped", "failed", "stopped"] {
        let _ = write!(
            page,
            "<span class=\"k\" style=\"background:{}\"></span>{s}",
            colour(s)
        );
    }
    page.push_str("</p>\n");
    page.push_str(&svg);
    page.push_str(&lane_totals(&lanes, &bars));
    if !never.is_empty() {
        page.push_str("<h3>Not run</h3><ul>\n");
        for s in never {
            let _ = writeln!(
                page,
                "<li>#{} {} ({}): {}</li>",
                s["number"],
                esc(s["what"].as_str().unwrap_or("?")),
                esc(s["node"].as_str().unwrap_or("?")),
                esc(s["state"].as_str().unwrap_or("?"))
            );
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</body></html>\n");
    Ok(page)
}

/// Per lane: busy seconds and bytes moved, so the slow part stands out in numbers too.
fn lane_totals(lanes: &[String], bars: &[Bar]) -> String {
    let mut out = String::from(
        "<h3>Lanes</h3><table><tr><th>lane</th><th>steps</th><th>busy seconds</th><th>pushed</th><th>pulled</th></tr>\n",
    );
    for lane in lanes {
        let on: Vec<&Bar> = bars.iter().filter(|b| &b.lane == lane).collect();
        let busy: f64 = on.iter().map(|b| b.secs).sum();
        let sum = |f: fn(&Traffic) -> u64| {
            let said: Vec<u64> = on
                .iter()
                .filter_map(|b| b.traffic.as_ref().map(f))
                .collect();
            if said.iter().all(|&n| n == 0) {
                "—".to_string()
            } else {
                human(said.iter().sum())
            }
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(lane),
            on.len(),
            trim(busy),
            sum(|t| t.pushed),
            sum(|t| t.pulled)
        );
    }
    out.push_str("</table>\n");
    out
}

fn bar_label(b: &Bar) -> String {
    let s = b.step;
    let mut l = format!(
        "#{} {} {}{} {}s",
        s["number"],
        s["kind"].as_str().unwrap_or("?"),
        s["image"].as_str().unwrap_or("?"),
        s["os_version"]
            .as_str()
            .map(|o| format!(" {o}"))
            .unwrap_or_default(),
        trim(b.secs)
    );
    if let Some(t) = b.traffic {
        if t.pulled > 0 {
            let _ = write!(l, " ↓{}", human(t.pulled));
        }
        if t.pushed > 0 {
            let _ = write!(l, " ↑{}", human(t.pushed));
        }
    }
    l
}

fn tooltip(b: &Bar, state: &str) -> String {
    let s = b.step;
    let mut t = format!(
        "{} — {state}, {}s from {}s\ntag {}",
        s["what"].as_str().unwrap_or("?"),
        trim(b.secs),
        trim(b.start),
        s["tag"].as_str().unwrap_or("?")
    );
    if let Some(e) = s["error"].as_str() {
        let _ = write!(t, "\n{}", first_line(e));
    }
    if let Some(d) = s["digest"].as_str() {
        let _ = write!(t, "\n{d}");
    }
    t
}

fn colour(state: &str) -> &'static str {
    match state {
        "ok" => "#2e7d32",
        "failed" => "#c62828",
        "stopped" => "#ef6c00",
        "skipped" => "#9e9e9e",
        _ => "#607d8b",
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(0.001);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// Seconds without needless decimals: `12`, `1.5`, `0.25`.
fn trim(s: f64) -> String {
    let t = format!("{s:.1}");
    t.strip_suffix(".0").map(String::from).unwrap_or(t)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// Text for XML and HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push('�'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(n: u32, node: &str, state: &str, start: Option<f64>, secs: Option<f64>) -> Value {
        json!({"number": n, "kind": "build", "what": format!("step {n}"), "image": "ps<h>",
               "os_version": "1809", "node": node, "state": state, "tag": "r/i:1",
               "started_seconds": start, "seconds": secs, "error": null, "digest": null})
    }

    fn doc(steps: Vec<Value>, result: &str) -> Value {
        json!({"format_version": 1, "target": "push-as-linux", "mode": "matrix", "result": result,
               "seconds": 10.0, "registry": "r", "started": "s", "finished": "f",
               "exit_code": 0, "error": null, "steps": steps})
    }

    #[test]
    fn bars_on_lanes_overlapping_steps_get_rows() {
        let d = doc(
            vec![
                step(1, "node 1809", "ok", Some(0.0), Some(4.0)),
                step(2, "node 1809", "ok", Some(1.0), Some(2.0)),
                step(3, "local", "failed", Some(5.0), Some(1.0)),
                step(4, "local", "not-started", None, None),
            ],
            "failed",
        );
        let page = html(
            &d,
            &[
                None,
                Some(Traffic {
                    pushed: 2_000_000,
                    pulled: 0,
                }),
                None,
                None,
            ],
        )
        .expect("renders");
        assert!(page.contains("<svg"), "{page}");
        assert!(!page.contains("<script"), "no JavaScript");
        assert_eq!(page.matches("<rect x=\"").count(), 2 + 3, "2 lanes, 3 bars");
        assert!(page.contains("ps&lt;h&gt;"), "escaped");
        assert!(page.contains("↑2.0 MB"));
        assert!(page.contains("Not run") && page.contains("step 4"));
        assert!(page.contains(colour("failed")));
    }

    #[test]
    fn old_reports_are_laid_end_to_end_and_said() {
        let d = doc(
            vec![
                step(1, "node", "ok", None, Some(3.0)),
                step(2, "node", "ok", None, Some(2.0)),
            ],
            "succeeded",
        );
        let page = html(&d, &[]).expect("renders");
        assert!(page.contains("drawn end to end"));
        assert!(html(&json!({"steps": []}), &[]).is_err());
        assert!(html(&json!({}), &[]).is_err());
    }

    #[test]
    fn ticks() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(13.0), 20.0);
        assert_eq!(nice_step(4.1), 5.0);
        assert_eq!(trim(12.0), "12");
        assert_eq!(trim(1.25), "1.2");
    }
}
