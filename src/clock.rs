//! The two clocks, read through the vDSO: no syscall.

use core::time::Duration;
use rustix::time::{ClockId, clock_gettime};

/// Time since an arbitrary start, never stepped: for deadlines and durations.
pub fn monotonic() -> Duration {
    read(ClockId::Monotonic)
}

/// Both clocks at one moment.
#[derive(Clone, Copy)]
pub struct Now {
/// [`monotonic`].
    pub monotonic: Duration,
/// [`unix_seconds`].
    pub unix: i64,
}

/// Both clocks now. The parent reads them at each accept for its child, which then
/// needs no clock for its first request: the vDSO's page is not faulted into every
/// child.
pub fn now() -> Now {
    Now { monotonic: monotonic(), unix: unix_seconds() }
}

/// Seconds since 1970-01-01 UTC: for the `Date` header.
pub fn unix_seconds() -> i64 {
    read(ClockId::Realtime).as_secs() as i64
}

fn read(clock: ClockId) -> Duration {
    let t = clock_gettime(clock);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
