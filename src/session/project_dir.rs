//! Where Claude Code keeps a working directory's transcripts: `<config dir>/projects/<escaped cwd>/`.
//!
//! `--resume <id>` only looks in the project directory derived from the *current* working directory, so
//! a restored transcript must land under exactly the name the CLI computes. The rule (CLI 2.1.197):
//! take the realpath of the cwd, replace every UTF-16 code unit that is not `[a-zA-Z0-9]` with `-`; when
//! that is longer than 200 units keep the first 200, then `-` and base36 of the absolute value of the
//! Java-style 32-bit string hash of the (unescaped) path.
use std::path::{Path, PathBuf};

/// Longest escaped name the CLI keeps verbatim.
const MAX_PLAIN_LEN: usize = 200;

/// The CLI's config directory: `CLAUDE_CONFIG_DIR` when set and non-empty, else `$HOME/.claude`.
/// `None` when neither variable is usable. Takes a lookup function so tests need not touch the process
/// environment.
pub fn claude_config_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    env("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".claude"))
}

/// `<config_dir>/projects/<escaped realpath(cwd)>`. Fails only when `cwd` cannot be resolved.
pub fn project_dir(config_dir: &Path, cwd: &Path) -> std::io::Result<PathBuf> {
    let real = std::fs::canonicalize(cwd)?;
    Ok(config_dir
        .join("projects")
        .join(escape_project_path(&real.to_string_lossy())))
}

/// The directory name the CLI derives from an already-resolved path string.
pub fn escape_project_path(path: &str) -> String {
    let units: Vec<u16> = path.encode_utf16().collect();
    let escaped: String = units
        .iter()
        .map(|&u| {
            if u < 128 && (u as u8).is_ascii_alphanumeric() {
                char::from(u as u8)
            } else {
                '-'
            }
        })
        .collect();
    if units.len() <= MAX_PLAIN_LEN {
        return escaped;
    }
    let hash = java_string_hash(&units);
    let mut out: String = escaped.chars().take(MAX_PLAIN_LEN).collect();
    out.push('-');
    out.push_str(&base36(i64::from(hash).unsigned_abs()));
    out
}

/// `h = h * 31 + unit` over UTF-16 code units, wrapping at 32 bits (Java's `String.hashCode`).
fn java_string_hash(units: &[u16]) -> i32 {
    units
        .iter()
        .fold(0i32, |h, &u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// Lower-case base36, like JavaScript's `Number.prototype.toString(36)` for non-negative integers.
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below were computed once with node v20 by running the CLI's own escaping function
    // (extracted from the 2.1.197 binary: `replace(/[^a-zA-Z0-9]/g,"-")`, then
    // `slice(0,200)+"-"+Math.abs(hash).toString(36)` with `t=(t<<5)-t+charCodeAt(n)|0`).

    #[test]
    fn short_paths_are_escaped_per_utf16_unit() {
        assert_eq!(
            escape_project_path("/home/u/we ird_dir.v2/sub"),
            "-home-u-we-ird-dir-v2-sub"
        );
        // U+1F600 is two UTF-16 units, so two dashes (node: "-tmp-a--b").
        assert_eq!(escape_project_path("/tmp/a\u{1F600}b"), "-tmp-a--b");
        assert_eq!(escape_project_path("/é"), "--");
    }

    const PREFIX: &str = "-home-runner-work-very-long-directory-name-very-long-directory-name-very-long-directory-name-very-long-directory-name-very-long-directory-name-very-long-directory-name-very-long-directory-name-very-lo";

    #[test]
    fn a_263_char_path_ends_with_the_base36_hash() {
        let path = format!(
            "/home/runner/work/{}{}",
            "very-long-directory-name_".repeat(9),
            "z".repeat(20)
        );
        assert_eq!(path.len(), 263);
        // node: hash -209064262 -> abs -> base36 "3ggz0m"
        assert_eq!(
            java_string_hash(&path.encode_utf16().collect::<Vec<_>>()),
            -209064262
        );
        assert_eq!(escape_project_path(&path), format!("{PREFIX}-3ggz0m"));
    }

    #[test]
    fn positive_hash_and_non_bmp_long_paths() {
        let path = format!(
            "/home/runner/work/{}{}",
            "very-long-directory-name_".repeat(10),
            "x".repeat(7)
        );
        assert_eq!(path.len(), 275);
        assert_eq!(escape_project_path(&path), format!("{PREFIX}-qcdlmg"));

        // 211 UTF-16 units (100 emoji = 200 units): the length test counts units, not chars.
        let emoji = format!("/srv/é/{}/end", "\u{1F600}".repeat(100));
        let expected = format!("-srv-{}-hrfo85", "-".repeat(195));
        assert_eq!(escape_project_path(&emoji), expected);
    }

    #[test]
    fn exactly_200_units_is_kept_verbatim() {
        let path = format!("/{}", "a".repeat(199));
        assert_eq!(escape_project_path(&path), format!("-{}", "a".repeat(199)));
    }

    #[test]
    fn hash_of_i32_min_does_not_overflow() {
        assert_eq!(base36(i64::from(i32::MIN).unsigned_abs()), "zik0zk");
        assert_eq!(base36(0), "0");
    }

    #[test]
    fn project_dir_resolves_symlinks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).expect("mkdir");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let config = Path::new("/cfg");
        assert_eq!(
            project_dir(config, &link).expect("resolve"),
            project_dir(config, &real).expect("resolve")
        );
        let canonical = std::fs::canonicalize(&real).expect("canonicalize");
        assert_eq!(
            project_dir(config, &real).expect("resolve"),
            config.join("projects").join(
                canonical
                    .to_string_lossy()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
            )
        );
    }

    #[test]
    fn config_dir_prefers_claude_config_dir() {
        let env = |k: &str| match k {
            "CLAUDE_CONFIG_DIR" => Some("/c".to_string()),
            "HOME" => Some("/h".to_string()),
            _ => None,
        };
        assert_eq!(claude_config_dir(env), Some(PathBuf::from("/c")));
        let env = |k: &str| (k == "HOME").then(|| "/h".to_string());
        assert_eq!(claude_config_dir(env), Some(PathBuf::from("/h/.claude")));
        assert_eq!(claude_config_dir(|_| None), None);
    }
}
