//! Memory and CPU of the current process, read from `/proc/self` (Linux).

/// Peak resident set size (`VmHWM` of `/proc/self/status`) in KiB, if readable.
pub fn peak_rss_kib() -> Option<u64> {
    status_field("VmHWM:")
}

/// Current resident set size (`VmRSS`) in KiB, if readable.
pub fn rss_kib() -> Option<u64> {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kib(&status, name)
}

/// The value in KiB of a `Name:   1234 kB` line of a `/proc/<pid>/status` text.
pub fn parse_status_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User + system CPU time of the process so far, in milliseconds (`/proc/self/stat` fields
/// 14 and 15, at the usual 100 ticks per second), if readable.
pub fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_cpu_ms(&stat, 100)
}

/// User + system time in ms from a `/proc/<pid>/stat` line (the command name may contain
/// spaces, so fields are counted after its closing parenthesis).
pub fn parse_stat_cpu_ms(stat: &str, ticks_per_second: u64) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ")" the first field is field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 1000 / ticks_per_second.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_stat() {
        let status = "Name:\tx\nVmPeak:\t  100 kB\nVmHWM:\t   4242 kB\nVmRSS:\t 4000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(4242));
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(4000));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
        let stat = "123 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_stat_cpu_ms(stat, 100), Some(3000));
        assert!(peak_rss_kib().is_some_and(|k| k > 0));
        assert!(cpu_ms().is_some());
    }
}
