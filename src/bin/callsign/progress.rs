//! The progress of `trust import` and `trust export` on stderr: a bar on a terminal,
//! otherwise a plain line every tenth of each list (stdout stays the command's output).

use std::io::IsTerminal as _;

use callsign::store::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Records between plain lines at least, so small lists make no noise.
const MIN_STEP: u64 = 10_000;

/// Shows the [`Progress`] of one import or export.
pub struct Reporter {
    /// `imported` or `exported`.
    verb: &'static str,
    terminal: bool,
    /// The list being shown, and its bar on a terminal.
    current: Option<(&'static str, Option<ProgressBar>)>,
    /// The count at which the next plain line is due.
    next: u64,
}

impl Reporter {
    /// A reporter whose lines say `verb` (`imported`, `exported`): a bar when stderr is
    /// a terminal.
    pub fn new(verb: &'static str) -> Reporter {
        Reporter::with_terminal(verb, std::io::stderr().is_terminal())
    }

    fn with_terminal(verb: &'static str, terminal: bool) -> Reporter {
        Reporter {
            verb,
            terminal,
            current: None,
            next: 0,
        }
    }

    /// Takes one report.
    pub fn update(&mut self, p: Progress) {
        if let Some(line) = self.line(p) {
            eprintln!("{line}");
        }
    }

    /// The plain line `p` calls for, if any; moves the bar on a terminal.
    fn line(&mut self, p: Progress) -> Option<String> {
        if self
            .current
            .as_ref()
            .is_none_or(|(what, _)| *what != p.what)
        {
            self.finish();
            let bar = self.terminal.then(|| bar(self.verb, p));
            self.current = Some((p.what, bar));
            self.next = step(p.total);
        }
        if let Some((_, Some(bar))) = &self.current {
            bar.set_position(p.done);
            return None;
        }
        let due = p.done >= self.next || (p.done == p.total && p.total >= MIN_STEP);
        if !due || p.done == 0 {
            return None;
        }
        let step = step(p.total);
        self.next = (p.done / step + 1) * step;
        Some(format!(
            "{} {} of {} {}",
            self.verb, p.done, p.total, p.what
        ))
    }

    /// Clears the bar, if one is drawn.
    pub fn finish(&mut self) {
        if let Some((_, Some(bar))) = self.current.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A line every tenth of `total`, in whole batches of [`MIN_STEP`].
fn step(total: u64) -> u64 {
    (total / 10).div_ceil(MIN_STEP).max(1) * MIN_STEP
}

fn bar(verb: &str, p: Progress) -> ProgressBar {
    let bar = ProgressBar::new(p.total);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(format!("{verb} {}", p.what));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(total: u64, batches: &[u64]) -> Vec<String> {
        let mut r = Reporter::with_terminal("imported", false);
        batches
            .iter()
            .filter_map(|&done| {
                r.line(Progress {
                    what: "numbers",
                    done,
                    total,
                })
            })
            .collect()
    }

    #[test]
    fn a_plain_line_every_tenth_of_the_list() {
        let batches: Vec<u64> = (1..=100).map(|i| i * 10_000).collect();
        let got = lines(1_000_000, &batches);
        assert_eq!(got.len(), 10, "{got:?}");
        assert_eq!(got[0], "imported 100000 of 1000000 numbers");
        assert_eq!(got[9], "imported 1000000 of 1000000 numbers");
    }

    #[test]
    fn small_lists_make_no_noise_and_the_end_is_said() {
        assert!(lines(7, &[7]).is_empty());
        let got = lines(25_000, &[10_000, 20_000, 25_000]);
        assert_eq!(
            got,
            [
                "imported 10000 of 25000 numbers",
                "imported 20000 of 25000 numbers",
                "imported 25000 of 25000 numbers"
            ]
        );
    }

    #[test]
    fn a_new_list_starts_its_own_count() {
        let mut r = Reporter::with_terminal("exported", false);
        let p = |what, done| Progress {
            what,
            done,
            total: 20_000,
        };
        assert!(r.line(p("numbers", 20_000)).is_some());
        let line = r.line(p("channel endpoint assignments", 10_000));
        assert_eq!(
            line.as_deref(),
            Some("exported 10000 of 20000 channel endpoint assignments")
        );
    }
}
