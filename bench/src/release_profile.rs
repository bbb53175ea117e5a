//! A check on the workspace's release profile that no benchmark would catch in time:
//! whenever the profile optimizes for size, aws-lc must still be built for speed.
//! `aws-lc-sys` builds aws-lc with `OPENSSL_SMALL` at opt-level "s" or "z", which drops its
//! AVX-512 RSA code and P-256's tables; every RS256 token then costs 2.2x the CPU
//! (docs/performance.md, section 7).

/// The value of `key` in the TOML table `[section]` of `manifest`, as written (quotes kept).
/// A line-based reading is enough for Cargo.toml's flat profile tables.
pub fn table_value(manifest: &str, section: &str, key: &str) -> Option<String> {
    let header = format!("[{section}]");
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((name, value)) = line.split_once('=')
            && name.trim() == key
        {
            let value = value.split('#').next().unwrap_or_default().trim();
            return Some(value.to_owned());
        }
    }
    None
}

/// Why `manifest`'s release profile would build aws-lc small, if it would.
pub fn aws_lc_built_small(manifest: &str) -> Option<String> {
    let release = table_value(manifest, "profile.release", "opt-level");
    let aws_lc = table_value(manifest, "profile.release.package.aws-lc-sys", "opt-level");
    let small = |level: &Option<String>| {
        level
            .as_deref()
            .is_some_and(|v| matches!(v.trim_matches('"'), "s" | "z"))
    };
    match (&aws_lc, small(&release)) {
        (Some(_), _) if small(&aws_lc) => Some(format!("aws-lc-sys has opt-level {aws_lc:?}")),
        (None, true) => Some(format!(
            "the release profile has opt-level {} and aws-lc-sys no opt-level of its own",
            release.unwrap_or_default()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_builds_aws_lc_for_speed() {
        let manifest = include_str!("../../Cargo.toml");
        assert_eq!(aws_lc_built_small(manifest), None);
        assert_eq!(
            table_value(manifest, "profile.release.package.aws-lc-sys", "opt-level").as_deref(),
            Some("3")
        );
    }

    #[test]
    fn a_size_optimized_profile_without_the_override_is_caught() {
        let small =
            "[profile.release]\nlto = true\nopt-level = \"s\"\n\n[profile.dev]\nopt-level = 3\n";
        assert!(aws_lc_built_small(small).is_some());
        let z = "[profile.release]\nopt-level = \"z\" # smallest\n";
        assert!(aws_lc_built_small(z).is_some());
        let overridden_small =
            format!("{small}[profile.release.package.aws-lc-sys]\nopt-level = \"s\"\n");
        assert!(aws_lc_built_small(&overridden_small).is_some());
        let fixed = format!("{small}[profile.release.package.aws-lc-sys]\nopt-level = 3\n");
        assert_eq!(aws_lc_built_small(&fixed), None);
        // A profile built for speed needs no override.
        assert_eq!(
            aws_lc_built_small("[profile.release]\nopt-level = 3\n"),
            None
        );
        assert_eq!(aws_lc_built_small("[profile.release]\nlto = true\n"), None);
    }
}
