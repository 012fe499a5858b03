//! coworker's own process, closed to the agent: not dumpable (so a same-uid process cannot read its
//! `/proc/<pid>/environ`, `mem` or `maps`), a child subreaper (so whatever the agent leaves
//! running is re-parented to coworker), and the cleanup that ends those survivors.
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// What the process-level protections achieved, for the run's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelfProtection {
    pub non_dumpable: bool,
    pub subreaper: bool,
}

/// Makes this process non-dumpable and a child subreaper. Called first thing in `main`, before any
/// secret is read into memory that an agent could otherwise find there.
pub fn close_self() -> SelfProtection {
    SelfProtection {
        non_dumpable: nix::sys::prctl::set_dumpable(false).is_ok()
            && nix::sys::prctl::get_dumpable().is_ok_and(|d| !d),
        subreaper: nix::sys::prctl::set_child_subreaper(true).is_ok(),
    }
}

/// One process that outlived the round that started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survivor {
    pub pid: i32,
    /// Its command line, for the log (arguments joined by spaces).
    pub command: String,
}

/// Ends every descendant of this process except `keep`: SIGTERM, `grace`, then SIGKILL, and reaps
/// the ones re-parented to us. Returns what had to be ended.
pub fn end_survivors(keep: &HashSet<i32>, grace: Duration) -> Vec<Survivor> {
    let me = std::process::id() as i32;
    let first = descendants(me, keep);
    if first.is_empty() {
        return Vec::new();
    }
    let found: Vec<Survivor> = first
        .iter()
        .map(|&pid| Survivor {
            pid,
            command: command_line(pid),
        })
        .collect();
    // Stop them from forking more while they are ended: SIGSTOP first, then TERM and CONT.
    for &pid in &first {
        let _ = kill(Pid::from_raw(pid), Signal::SIGSTOP);
    }
    for &pid in &first {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
    }
    let deadline = Instant::now() + grace;
    loop {
        reap_children(me);
        let left = descendants(me, keep);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for &pid in &left {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            // SIGKILL cannot be ignored; wait (bounded) for the kernel to finish them.
            let hard = Instant::now() + Duration::from_secs(5);
            while !descendants(me, keep).is_empty() && Instant::now() < hard {
                reap_children(me);
                std::thread::sleep(Duration::from_millis(10));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    reap_children(me);
    found
}

/// Reaps exited children of `me` that nobody else waits for (re-parented orphans). Children
/// spawned through tokio are waited for by their owners before this runs.
fn reap_children(me: i32) {
    for (pid, (ppid, state)) in process_table() {
        if ppid == me && state == 'Z' {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// Every live (not zombie) descendant of `root`, excluding `keep` and their descendants.
fn descendants(root: i32, keep: &HashSet<i32>) -> Vec<i32> {
    let table = process_table();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (&pid, &(ppid, _)) in &table {
        children.entry(ppid).or_default().push(pid);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or_default() {
            if keep.contains(&c) {
                continue;
            }
            if table.get(&c).is_some_and(|(_, s)| *s != 'Z') {
                out.push(c);
            }
            stack.push(c);
        }
    }
    out
}

/// pid -> (ppid, state) for every process visible in /proc.
fn process_table() -> HashMap<i32, (i32, char)> {
    let mut table = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return table;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            && let Some(parsed) = parse_stat(&stat)
        {
            table.insert(pid, parsed);
        }
    }
    table
}

/// (ppid, state) from a `/proc/<pid>/stat` line; the command name may hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(i32, char)> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

fn command_line(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        assert_eq!(
            parse_stat("123 (a) b (c)) S 45 123 123 0 -1"),
            Some((45, 'S'))
        );
        assert_eq!(parse_stat("garbage"), None);
    }
}
