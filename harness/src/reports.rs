//! Report files, written so that a reader never sees a half-written run: every file goes into a
//! hidden staging directory and is fsynced there, the directory is renamed to its run id, and
//! only then is `latest` switched (a new symlink renamed over the old one). A failure at any
//! step (a full disk) removes what this run wrote and leaves the previous runs and `latest` as
//! they were.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A run's report directory while the run goes on.
pub(crate) struct Staging {
    report_dir: PathBuf,
    name: String,
    tmp: PathBuf,
}

impl Staging {
    /// Make `report_dir/.incomplete-NAME` and write into it once, so that an unwritable report
    /// directory fails the run before it starts, not after.
    pub fn create(report_dir: &Path, name: &str) -> std::io::Result<Staging> {
        std::fs::create_dir_all(report_dir)?;
        let tmp = report_dir.join(format!(".incomplete-{name}"));
        std::fs::create_dir(&tmp)?;
        let staging = Staging {
            report_dir: report_dir.to_path_buf(),
            name: name.to_string(),
            tmp,
        };
        std::fs::write(staging.tmp.join("summary.txt"), "run in progress\n")?;
        crate::interrupt::set_staging(Some(staging.tmp.clone()));
        Ok(staging)
    }

    /// Where the reports will be once published.
    pub fn final_dir(&self) -> PathBuf {
        self.report_dir.join(&self.name)
    }

    /// Write the files, publish the directory, switch `latest`. The error is the one-line
    /// reason, saying that nothing changed.
    pub fn publish(self, files: &[(&str, Vec<u8>)]) -> Result<PathBuf, String> {
        self.publish_with(files, &write_synced)
    }

    fn publish_with(
        self,
        files: &[(&str, Vec<u8>)],
        write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
    ) -> Result<PathBuf, String> {
        let fail = |what: String, e: std::io::Error| {
            format!(
                "cannot write reports to {}: {what}: {e}; the previous reports and latest are unchanged",
                self.report_dir.display()
            )
        };
        for (name, bytes) in files {
            let path = self.tmp.join(name);
            write(&path, bytes).map_err(|e| fail(path.display().to_string(), e))?;
        }
        sync_dir(&self.tmp);
        let dir = self.final_dir();
        std::fs::rename(&self.tmp, &dir)
            .map_err(|e| fail(format!("rename to {}", dir.display()), e))?;
        let link = self
            .report_dir
            .join(format!(".latest-{}", std::process::id()));
        let _ = std::fs::remove_file(&link);
        let switched = std::os::unix::fs::symlink(&self.name, &link)
            .and_then(|()| std::fs::rename(&link, self.report_dir.join("latest")));
        if let Err(e) = switched {
            let _ = std::fs::remove_file(&link);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(fail("switching latest".into(), e));
        }
        sync_dir(&self.report_dir);
        crate::interrupt::set_staging(None);
        Ok(dir)
    }
}

impl Drop for Staging {
    /// Not published (an error, or a run that ended early): nothing of it stays behind.
    fn drop(&mut self) {
        if self.tmp.exists() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
        crate::interrupt::set_staging(None);
    }
}

/// Create, write and fsync one file: a full disk shows up here (at the latest at fsync), not
/// later as a truncated file.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// fsync a directory so the names in it last; the files themselves are already synced, so a
/// file system that cannot sync directories loses nothing but durability across a crash.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("harness-reports-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn files() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("junit.xml", b"<testsuites/>".to_vec()),
            ("results.ktap", b"KTAP version 1\n".to_vec()),
            ("summary.txt", b"done\n".to_vec()),
        ]
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn publishes_complete_and_switches_latest() {
        let dir = scratch("ok");
        let first = Staging::create(&dir, "run-1")
            .unwrap()
            .publish(&files())
            .unwrap();
        assert_eq!(first, dir.join("run-1"));
        let second = Staging::create(&dir, "run-2").unwrap();
        assert_eq!(
            names(&dir),
            [".incomplete-run-2", "latest", "run-1"],
            "a run in progress is invisible to readers of latest"
        );
        second.publish(&files()).unwrap();
        assert_eq!(names(&dir), ["latest", "run-1", "run-2"]);
        assert_eq!(
            std::fs::read_link(dir.join("latest")).unwrap(),
            Path::new("run-2")
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("latest/summary.txt")).unwrap(),
            "done\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A disk that fills up while any one of the files is written: the previous run and latest
    /// stay, nothing of the new run does, and the reason says so.
    #[test]
    fn a_full_disk_leaves_the_previous_run_and_latest() {
        for failing in 0..3 {
            let dir = scratch(&format!("full-{failing}"));
            Staging::create(&dir, "run-1")
                .unwrap()
                .publish(&files())
                .unwrap();
            let count = std::cell::Cell::new(0);
            let full = |path: &Path, bytes: &[u8]| {
                let n = count.get();
                count.set(n + 1);
                if n == failing {
                    // Half a file, then ENOSPC: what a full disk does.
                    std::fs::write(path, &bytes[..bytes.len() / 2])?;
                    return Err(std::io::Error::from_raw_os_error(nix::libc::ENOSPC));
                }
                write_synced(path, bytes)
            };
            let err = Staging::create(&dir, "run-2")
                .unwrap()
                .publish_with(&files(), &full)
                .unwrap_err();
            assert!(
                err.contains("No space left on device")
                    && err.ends_with("the previous reports and latest are unchanged"),
                "{err}"
            );
            assert_eq!(names(&dir), ["latest", "run-1"], "file {failing}");
            assert_eq!(
                std::fs::read_link(dir.join("latest")).unwrap(),
                Path::new("run-1")
            );
            assert_eq!(
                std::fs::read_to_string(dir.join("latest/junit.xml")).unwrap(),
                "<testsuites/>"
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn an_unpublished_run_leaves_nothing() {
        let dir = scratch("dropped");
        drop(Staging::create(&dir, "run-1").unwrap());
        assert!(names(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
