//! The `oidc` benchmark's pieces: the two providers (`provider.rs`), how a code is
//! obtained from each before anything is timed (`mint.rs`), and the timed phases with
//! both processes' CPU time (`load.rs`).

pub mod load;
pub mod mint;
pub mod provider;

/// Keeps the calling process (every thread it starts from now on) on CPU `cpu` alone.
/// Called between fork and exec too, so it allocates nothing.
pub fn pin_current_process(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; the calls only read and write it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
