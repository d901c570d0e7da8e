//! The guest's results, carried out on the raw FBA disk as a tar (init.sh), and published on
//! the host as `reports/<run-id>/` exactly like a native run, with `reports/latest`.

use super::Error;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What the guest wrote: `out/*` (its console output, stderr, dmesg, exit status, facts) and
/// its report directory `rep/<run-id>/*`.
#[derive(Debug, Default)]
pub struct GuestResults {
    /// `out/<name>` → contents.
    pub out: BTreeMap<String, Vec<u8>>,
    /// The report files of the guest's run directory (`junit.xml`, `results.ktap`, ...).
    pub report: BTreeMap<String, Vec<u8>>,
}

impl GuestResults {
    /// The suite's exit status in the guest.
    pub fn rc(&self) -> Option<i32> {
        self.text("rc")?.trim().parse().ok()
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.out
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    pub fn report_text(&self, name: &str) -> Option<String> {
        self.report
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Read the tar at the start of the results disk. The disk was all zeros before, so the
/// archive ends at the first zero blocks; a disk the guest never wrote gives an error.
pub fn read_results_disk(disk: &Path) -> Result<GuestResults, Error> {
    let file = std::fs::File::open(disk).map_err(|e| Error::io(disk, e))?;
    read_results(file).map_err(|e| {
        Error::setup(format!(
            "the results disk {} holds no results: {e}",
            disk.display()
        ))
    })
}

pub fn read_results(r: impl Read) -> Result<GuestResults, String> {
    let mut archive = tar::Archive::new(r);
    let mut results = GuestResults::default();
    let mut rep_dirs = BTreeMap::<String, BTreeMap<String, Vec<u8>>>::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let parts: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
        match parts.as_slice() {
            [out, name] if out == "out" => {
                results.out.insert(name.clone(), data);
            }
            [rep, run, name] if rep == "rep" => {
                rep_dirs
                    .entry(run.clone())
                    .or_default()
                    .insert(name.clone(), data);
            }
            _ => {}
        }
    }
    if results.out.is_empty() && rep_dirs.is_empty() {
        return Err("no tar archive (the guest did not write its results)".into());
    }
    // One run per boot; if there were more, the newest (names start with a UTC stamp).
    if let Some((_, files)) = rep_dirs.into_iter().next_back() {
        results.report = files;
    }
    Ok(results)
}

/// Write the reports into `report_dir/<id>/` and point `report_dir/latest` at it. The guest's
/// own files come first (junit.xml, results.ktap, summary.txt), then what the host adds:
/// `guest-console.txt` (the suite's console output), `guest-stderr.txt`, `dmesg.txt`,
/// `emulator-console.log`.
pub fn publish(
    report_dir: &Path,
    id: &str,
    results: &GuestResults,
    extra: &[(&str, Vec<u8>)],
) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(report_dir).map_err(|e| Error::io(report_dir, e))?;
    let dir = report_dir.join(id);
    std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    let write = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, data).map_err(|e| Error::io(&p, e))
    };
    for (name, data) in &results.report {
        write(name, data)?;
    }
    for (from, to) in [
        ("stdout.txt", "guest-console.txt"),
        ("stderr.txt", "guest-stderr.txt"),
        ("dmesg.txt", "dmesg.txt"),
        ("facts.txt", "guest-facts.txt"),
    ] {
        if let Some(data) = results.out.get(from) {
            write(to, data)?;
        }
    }
    for (name, data) in extra {
        write(name, data)?;
    }
    point_latest(report_dir, id)?;
    Ok(dir)
}

/// `report_dir/latest` → `id`, replaced atomically.
pub fn point_latest(report_dir: &Path, id: &str) -> Result<(), Error> {
    let tmp = report_dir.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(id, &tmp).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, report_dir.join("latest")).map_err(|e| Error::io(report_dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        let mut v = b.into_inner().unwrap();
        // The rest of the disk: zeros.
        v.resize(v.len() + 64 * 1024, 0);
        v
    }

    #[test]
    fn results_from_the_disk() {
        let disk = archive(&[
            ("out/rc", b"1\n"),
            ("out/stdout.txt", b"test a ... ok\n"),
            ("rep/20261202T070000Z-live-91/junit.xml", b"<testsuites/>"),
            (
                "rep/20261202T070000Z-live-91/summary.txt",
                b"kvm-conformance: 1 passed",
            ),
        ]);
        let r = read_results(&disk[..]).unwrap();
        assert_eq!(r.rc(), Some(1));
        assert_eq!(r.report_text("junit.xml").as_deref(), Some("<testsuites/>"));
        assert_eq!(r.report.len(), 2);
    }

    #[test]
    fn a_disk_the_guest_never_wrote() {
        let zeros = vec![0u8; 8192];
        assert!(read_results(&zeros[..]).is_err());
    }

    #[test]
    fn publish_writes_the_run_and_points_latest() {
        let root = std::env::temp_dir().join(format!("kc-publish-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let disk = archive(&[
            ("out/rc", b"0\n"),
            ("out/dmesg.txt", b"[0.0] Linux"),
            ("rep/x/junit.xml", b"<testsuites/>"),
        ]);
        let r = read_results(&disk[..]).unwrap();
        let dir = publish(
            &root,
            "run-1",
            &r,
            &[("emulator-console.log", b"HHC".to_vec())],
        )
        .unwrap();
        assert_eq!(
            std::fs::read(dir.join("junit.xml")).unwrap(),
            b"<testsuites/>"
        );
        assert_eq!(
            std::fs::read(dir.join("dmesg.txt")).unwrap(),
            b"[0.0] Linux"
        );
        assert_eq!(
            std::fs::read_link(root.join("latest")).unwrap(),
            Path::new("run-1")
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
