//! How long one index read may run, and whether its caller still wants the answer: reads
//! check their budget as they go and give up once it is spent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A read's deadline and its cancellation, shared by the request and the thread doing it.
#[derive(Debug, Clone)]
pub struct Budget {
    deadline: Instant,
    cancelled: Arc<AtomicBool>,
}

/// The read was given up: out of time, or its caller went away.
#[derive(Debug, thiserror::Error)]
#[error("the index read was given up: out of time or no longer wanted")]
pub struct Exhausted;

impl Budget {
    pub fn new(limit: Duration) -> Self {
        Self {
            deadline: Instant::now() + limit,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// For reads the process makes for itself (warming, admin tools), which may take long.
    pub fn unlimited() -> Self {
        Self::new(Duration::from_secs(24 * 3600))
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn check(&self) -> Result<(), Exhausted> {
        if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            Err(Exhausted)
        } else {
            Ok(())
        }
    }
}

/// How many documents a loop handles between two looks at its budget.
pub const CHECK_EVERY: u32 = 4096;
