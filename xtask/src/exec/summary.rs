//! The summary printed at the end of every run: counts, then one line per step with its
//! state, time, node and label.

use std::time::Duration;

use super::state::State;
use super::term::write_line;
use crate::plan::Plan;

pub fn print_summary(plan: &Plan, state: &[State], total: Duration) {
    let count = |f: fn(&State) -> bool| state.iter().filter(|s| f(s)).count();
    let ok = count(|s| matches!(s, State::Ok(_)));
    let bad = count(|s| matches!(s, State::Failed(..)));
    let stopped = count(|s| matches!(s, State::Stopped(_)));
    let not = count(|s| matches!(s, State::Pending));
    let skipped = count(|s| matches!(s, State::Skipped));
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped (unchanged)")
    } else {
        String::new()
    };
    write_line(
        true,
        &format!(
            "\nsummary {}: {ok} ok, {bad} failed, {stopped} stopped, {not} not started{skipped}, {:.1}s",
            plan.target.name(),
            total.as_secs_f64()
        ),
    );
    for (s, st) in plan.steps.iter().zip(state) {
        let word = match st {
            State::Failed(..) => "FAILED",
            State::Pending | State::Running(_) => "not started",
            _ => st.key(),
        };
        let took = st
            .took()
            .map(|d| format!("{:.1}s", d.as_secs_f64()))
            .unwrap_or_default();
        write_line(
            true,
            &format!(
                "  {:>3}  {:<11} {:>8}  {:<14} {}",
                s.id,
                word,
                took,
                s.node.label(),
                s.what
            ),
        );
    }
}
