//! Lambda's CPU model for the cold-login benchmark, and CPU time of another process.
//!
//! Lambda runs init at full speed; from the first invocation on, an execution environment
//! gets CPU in proportion to its memory (1,769 MB = one vCPU). Here that is CFS bandwidth
//! control: once the function has asked for its first event, its process is moved into a
//! cgroup of its own whose quota per period is the memory's share of one CPU
//! (`cpu.max` on cgroup v2, `cpu.cfs_quota_us` / `cpu.cfs_period_us` on v1).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The memory size that buys one full vCPU on Lambda.
pub const FULL_VCPU_MB: u32 = 1769;

/// The CPU time (user + system, every thread, exited ones included) the process `pid` has
/// used so far: its POSIX process CPU clock, read from outside (nanosecond resolution,
/// unlike the clock ticks of `/proc/<pid>/stat`).
pub fn process_cpu_time(pid: u32) -> io::Result<Duration> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid place for the id; the call reads nothing else.
    let rc = unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// The share of one CPU a function of `memory_mb` gets.
pub fn cpu_share(memory_mb: u32) -> f64 {
    f64::from(memory_mb) / f64::from(FULL_VCPU_MB)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// A cgroup of this benchmark's own, under which each measured process gets a child with
/// its quota. Removed (with its children) when dropped.
pub struct CpuLimiter {
    version: Version,
    dir: PathBuf,
    period: Duration,
    next: std::sync::atomic::AtomicU32,
}

/// One process under its quota.
pub struct Throttled {
    version: Version,
    dir: PathBuf,
}

/// Bandwidth-control counters of a [`Throttled`] cgroup.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThrottleStats {
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_time: Duration,
}

impl CpuLimiter {
    /// Finds the CPU controller of the cgroup this process is in and makes a child cgroup
    /// there, or says why that is impossible here.
    pub fn new(period: Duration) -> Result<Self, String> {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let membership = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let (version, own) = find_cpu_cgroup(&mounts, &membership).ok_or(
            "no cgroup with the cpu controller is mounted (neither v2 with `cpu` in \
             cgroup.controllers nor a v1 `cpu` hierarchy)",
        )?;
        let dir = own.join(format!("wxauth-coldlogin-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| {
            format!(
                "cannot create {} ({e}): the cgroup is not writable by this user; run as \
                 root, or in a delegated cgroup (systemd-run --user --scope -p Delegate=yes)",
                dir.display()
            )
        })?;
        let limiter = Self {
            version,
            dir,
            period,
            next: 0.into(),
        };
        if version == Version::V2 {
            // Children get a cpu.max only when the parent hands the controller down.
            write(&limiter.dir.join("cgroup.subtree_control"), "+cpu").map_err(|e| {
                format!(
                    "cannot enable the cpu controller for {}'s children: {e}",
                    limiter.dir.display()
                )
            })?;
        }
        Ok(limiter)
    }

    pub fn describe(&self) -> String {
        let version = match self.version {
            Version::V1 => "cgroup v1, cpu.cfs_quota_us / cpu.cfs_period_us",
            Version::V2 => "cgroup v2, cpu.max",
        };
        format!("{version} under {}", self.dir.display())
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// The quota per period for `memory_mb`.
    pub fn quota(&self, memory_mb: u32) -> Duration {
        self.period.mul_f64(cpu_share(memory_mb))
    }

    /// Moves the process `pid` (all its threads) into a new child cgroup limited to
    /// `memory_mb`'s share of one CPU.
    pub fn throttle(&self, pid: u32, memory_mb: u32) -> io::Result<Throttled> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self.dir.join(format!("fn-{n}"));
        std::fs::create_dir(&dir)?;
        let period_us = self.period.as_micros();
        let quota_us = self.quota(memory_mb).as_micros().max(1000);
        match self.version {
            Version::V2 => write(&dir.join("cpu.max"), &format!("{quota_us} {period_us}"))?,
            Version::V1 => {
                write(&dir.join("cpu.cfs_period_us"), &period_us.to_string())?;
                write(&dir.join("cpu.cfs_quota_us"), &quota_us.to_string())?;
            }
        }
        write(&dir.join("cgroup.procs"), &pid.to_string())?;
        let member = std::fs::read_to_string(dir.join("cgroup.procs"))?;
        if !member.lines().any(|l| l.trim() == pid.to_string()) {
            return Err(io::Error::other(format!(
                "{pid} is not in {} after being moved there",
                dir.display()
            )));
        }
        Ok(Throttled {
            version: self.version,
            dir,
        })
    }
}

impl Drop for CpuLimiter {
    fn drop(&mut self) {
        if let Ok(children) = std::fs::read_dir(&self.dir) {
            for child in children.flatten() {
                if child.path().is_dir() {
                    let _ = remove_cgroup(&child.path());
                }
            }
        }
        let _ = remove_cgroup(&self.dir);
    }
}

impl Throttled {
    pub fn stats(&self) -> io::Result<ThrottleStats> {
        let text = std::fs::read_to_string(self.dir.join("cpu.stat"))?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let throttled_time = match self.version {
            Version::V1 => field("throttled_time").map(Duration::from_nanos),
            Version::V2 => field("throttled_usec").map(Duration::from_micros),
        };
        Ok(ThrottleStats {
            periods: field("nr_periods").unwrap_or(0),
            throttled_periods: field("nr_throttled").unwrap_or(0),
            throttled_time: throttled_time.unwrap_or_default(),
        })
    }

    /// Removes the cgroup once its process has exited.
    pub fn remove(self) -> io::Result<()> {
        remove_cgroup(&self.dir)
    }
}

/// rmdir, retried briefly: a killed process leaves its cgroup a moment after it is reaped.
fn remove_cgroup(dir: &Path) -> io::Result<()> {
    let mut last = None;
    for _ in 0..50 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(last.expect("an error"))
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    std::fs::write(path, value).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("writing {value:?} to {}: {e}", path.display()),
        )
    })
}

/// The directory of this process's own cgroup in a hierarchy with the cpu controller:
/// cgroup v2 when `cpu` is among its controllers, otherwise a v1 `cpu` hierarchy.
fn find_cpu_cgroup(mountinfo: &str, membership: &str) -> Option<(Version, PathBuf)> {
    // mountinfo: id parent major:minor root mount-point options [optional…] - fstype source super-options
    let mounts: Vec<(String, String, String)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?.to_owned();
            let mut right = right.split(' ');
            let fstype = right.next()?.to_owned();
            let super_options = right.nth(1).unwrap_or("").to_owned();
            Some((mount_point, fstype, super_options))
        })
        .collect();
    let own_path = |hierarchy: &dyn Fn(&str) -> bool| {
        membership.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            hierarchy(controllers).then(|| path.trim_start_matches('/').to_owned())
        })
    };
    if let Some(path) = own_path(&|c: &str| c.is_empty()) {
        for (mount_point, fstype, _) in &mounts {
            if fstype != "cgroup2" {
                continue;
            }
            let dir = Path::new(mount_point).join(&path);
            let controllers = std::fs::read_to_string(dir.join("cgroup.controllers"));
            if controllers.is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu")) {
                return Some((Version::V2, dir));
            }
        }
    }
    let has_cpu = |list: &str| list.split(',').any(|c| c == "cpu");
    let path = own_path(&|c: &str| has_cpu(c))?;
    mounts
        .iter()
        .find(|(_, fstype, options)| fstype == "cgroup" && has_cpu(options))
        .map(|(mount_point, _, _)| (Version::V1, Path::new(mount_point).join(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_cpu_hierarchy_is_found_beside_an_empty_v2_one() {
        let mountinfo = "\
30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
31 25 0:27 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
40 25 0:35 / /nonexistent/unified rw,relatime - cgroup2 cgroup2 rw
";
        let membership = "2:cpuacct:/\n1:cpu:/jobs/a\n0::/\n";
        assert_eq!(
            find_cpu_cgroup(mountinfo, membership),
            Some((Version::V1, PathBuf::from("/sys/fs/cgroup/cpu/jobs/a")))
        );
        let combined = "30 25 0:26 / /c rw - cgroup cgroup rw,cpu,cpuacct\n";
        assert_eq!(
            find_cpu_cgroup(combined, "3:cpu,cpuacct:/x\n"),
            Some((Version::V1, PathBuf::from("/c/x")))
        );
        assert_eq!(find_cpu_cgroup("", "0::/\n"), None);
    }

    #[test]
    fn shares_follow_lambdas_memory_to_cpu_rule() {
        assert!((cpu_share(FULL_VCPU_MB) - 1.0).abs() < 1e-12);
        assert!((cpu_share(128) - 0.07236).abs() < 1e-4);
    }

    #[test]
    fn this_process_has_a_cpu_clock() {
        let before = process_cpu_time(std::process::id()).unwrap();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu_time(std::process::id()).unwrap() > before);
    }
}
