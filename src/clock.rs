//! The two clocks, read through the vDSO: no syscall.

use core::time::Duration;
use rustix::time::{ClockId, clock_gettime};

/// Time since an arbitrary start, never stepped: for deadlines and durations.
pub fn monotonic() -> Duration {
    read(ClockId::Monotonic)
}

/// Seconds since 1970-01-01 UTC: for the `Date` header.
pub fn unix_seconds() -> i64 {
    read(ClockId::Realtime).as_secs() as i64
}

fn read(clock: ClockId) -> Duration {
    let t = clock_gettime(clock);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
