//! Figures the timing tests print.

use std::time::Duration;

/// The `percent`th percentile (nearest rank) of `times`, which it sorts;
/// zero for no times.
pub fn percentile(times: &mut [Duration], percent: usize) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    times.sort_unstable();
    let rank = (times.len() * percent).div_ceil(100).clamp(1, times.len());
    times[rank - 1]
}
