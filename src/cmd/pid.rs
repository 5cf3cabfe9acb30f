//! Probing and signalling a process by pid, for `status` and `stop`.

use std::io;

/// `kill(pid, 0)`: does a process with this pid exist? (EPERM means it
/// exists but belongs to someone else.)
pub(super) fn pid_alive(pid: u32) -> bool {
    match i32::try_from(pid) {
        // 0 would probe our own process group, not a process.
        Ok(p) if p > 0 => match raw_kill(p, 0) {
            Ok(()) => !is_zombie(pid),
            Err(e) => e.raw_os_error() == Some(libc::EPERM),
        },
        _ => false,
    }
}

/// A zombie has exited and only waits for its parent to reap it: it is not
/// running, although signal 0 still reaches it.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The state follows the command name, which is in parentheses and may contain spaces.
            let after = stat.rsplit_once(')')?.1;
            after.split_whitespace().next().map(|state| state == "Z")
        })
        .unwrap_or(false)
}

/// `kill(2)` for one positive pid.
#[allow(unsafe_code)]
pub(super) fn raw_kill(pid: i32, signal: libc::c_int) -> io::Result<()> {
    if pid <= 0 {
        // Never let a bad pid turn into "every process in the group" (0)
        // or "every process we may signal" (-1).
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: kill takes two integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exited_unreaped_child_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // It stays a zombie until we wait for it; give it (bounded) time to exit.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !is_zombie(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(is_zombie(pid), "the child did not exit within 10 s");
        assert!(!pid_alive(pid), "zombie counted as alive");
        child.wait().unwrap();
        assert!(pid_alive(std::process::id()));
    }
}
