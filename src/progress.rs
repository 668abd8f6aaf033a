//! Progress of long work: a bar on a terminal, plain log lines every tenth otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    label: String,
    total: u64,
    done: AtomicU64,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar when stderr is a terminal and `interactive` is asked for; log lines otherwise.
    pub fn new(label: impl Into<String>, total: u64, interactive: bool) -> Self {
        let label = label.into();
        let bar = (interactive && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {eta} left)",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_message(label.clone());
            bar
        });
        Self {
            label,
            total,
            done: AtomicU64::new(0),
            bar,
        }
    }

    /// Progress nobody watches, for callers that report on their own.
    pub fn hidden() -> Self {
        Self {
            label: String::new(),
            total: 0,
            done: AtomicU64::new(0),
            bar: None,
        }
    }

    pub fn inc(&self, n: u64) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.total > 0 {
            let tenth = |x: u64| x * 10 / self.total;
            let after = before + n;
            if tenth(after) > tenth(before) && after < self.total {
                tracing::info!(
                    "{}: {}% ({after} of {} rows)",
                    self.label,
                    after * 100 / self.total,
                    self.total
                );
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
