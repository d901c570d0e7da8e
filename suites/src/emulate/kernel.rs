//! Which kernel the emulated machine boots: a Debian s390x kernel series (the newest image of
//! that series that the mirror really serves, fetched with a private apt configuration for
//! architecture s390x and cached), or a maintainer's own image and kvm.ko.

use super::guest::Module;
use super::Error;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What `--emulate-s390 KERNEL` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelRequest {
    /// A Debian series: "6.1", "6.12", "7.2".
    Series(String),
    /// Every series the mirror serves.
    All,
    /// A kernel image file, with its kvm.ko (None: KVM built in).
    Image {
        image: PathBuf,
        kvm_module: Option<PathBuf>,
    },
}

impl KernelRequest {
    pub fn parse(arg: &str, kvm_module: Option<PathBuf>) -> Result<KernelRequest, Error> {
        if arg == "all" || is_series(arg) {
            if kvm_module.is_some() {
                return Err(Error::usage(
                    "--kvm-module goes with a kernel image path, not a Debian series".into(),
                ));
            }
            return Ok(if arg == "all" {
                KernelRequest::All
            } else {
                KernelRequest::Series(arg.to_string())
            });
        }
        let image = PathBuf::from(arg);
        if !image.is_file() {
            return Err(Error::usage(format!(
                "--emulate-s390 {arg}: neither a Debian series (6.1, 6.12, 7.2, all) nor a kernel image file"
            )));
        }
        if let Some(m) = &kvm_module {
            if !m.is_file() {
                return Err(Error::usage(format!(
                    "--kvm-module {}: no such file",
                    m.display()
                )));
            }
        }
        Ok(KernelRequest::Image { image, kvm_module })
    }
}

/// "6.12": digits, a dot, digits.
fn is_series(s: &str) -> bool {
    let mut parts = s.split('.');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// A kernel ready to boot.
#[derive(Debug, Clone)]
pub struct BootKernel {
    /// What to call it in reports: "linux-image-6.12.107+deb13-s390x 6.12.107-1" or the path.
    pub label: String,
    /// Short name for directories and the matrix: "6.12.107+deb13-s390x".
    pub name: String,
    pub image: PathBuf,
    /// Modules to load in the guest, in order (kvm, then the DASD driver for the results).
    pub modules: Vec<Module>,
    /// The series asked for (`all` runs several): what a rerun command names.
    pub series: Option<String>,
}

/// Debian's s390x kernel image packages are `linux-image-<release>-s390x` (6.1: the ABI name
/// `6.1.0-50-s390x`). The newest first among those of `series` ("6.12" matches
/// `linux-image-6.12.107+deb13-s390x`, not `linux-image-6.1.0-50-s390x`).
pub fn candidates_for(series: &str, names: &[String]) -> Vec<String> {
    let prefix = format!("linux-image-{series}.");
    let mut c: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with(&prefix) && n.ends_with("-s390x"))
        .filter(|n| !n.contains("-dbg") && !n.contains("unsigned"))
        .cloned()
        .collect();
    c.sort_by(|a, b| version_cmp(b, a));
    c.dedup();
    c
}

/// The series ("6.1", "6.12", "7.2") of the kernel image packages, oldest first.
pub fn series_of(names: &[String]) -> Vec<String> {
    let mut s: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix("linux-image-"))
        .filter(|n| n.ends_with("-s390x") && n.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .filter_map(|n| {
            let mut it = n.split(['.', '-', '+']);
            Some(format!("{}.{}", it.next()?, it.next()?))
        })
        .filter(|s| is_series(s))
        .collect();
    s.sort_by(|a, b| version_cmp(a, b));
    s.dedup();
    s
}

/// Compare like `sort -V`: runs of digits as numbers, everything else as text.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => x
                .trim_start_matches('0')
                .len()
                .cmp(&y.trim_start_matches('0').len())
                .then_with(|| x.trim_start_matches('0').cmp(y.trim_start_matches('0'))),
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

/// `linux-image-6.12.107+deb13-s390x_6.12.107-1_s390x.deb` → (package, version).
pub fn deb_name_version(file: &str) -> Option<(String, String)> {
    let stem = file.strip_suffix(".deb")?;
    let mut parts = stem.splitn(3, '_');
    let (name, version) = (parts.next()?, parts.next()?);
    // Debian encodes an epoch's colon as %3a in file names.
    Some((name.to_string(), version.replace("%3a", ":")))
}

/// A private apt configuration for architecture s390x (bookworm, trixie, sid) under the
/// cache; the system's own apt setup is not touched. The mirror is the system's.
pub struct DebianS390x {
    dir: PathBuf,
}

/// How long a looked-up package list stays good before the mirror is asked again.
const LIST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

impl DebianS390x {
    pub fn new(cache: &Path) -> Result<DebianS390x, Error> {
        let dir = cache.join("apt-s390x");
        for d in [
            "lists/partial",
            "cache/archives/partial",
            "etc/preferences.d",
            "debs",
        ] {
            std::fs::create_dir_all(dir.join(d)).map_err(|e| Error::io(&dir, e))?;
        }
        let uri = system_mirror()?;
        let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
        let sources: String = ["bookworm", "trixie", "sid"]
            .iter()
            .map(|s| format!("deb [arch=s390x signed-by={keyring}] {uri} {s} main\n"))
            .collect();
        std::fs::write(dir.join("sources.list"), sources).map_err(|e| Error::io(&dir, e))?;
        let status = dir.join("status");
        if !status.exists() {
            std::fs::write(&status, "").map_err(|e| Error::io(&status, e))?;
        }
        Ok(DebianS390x { dir })
    }

    fn apt(&self, tool: &str) -> Command {
        let d = |p: &str| self.dir.join(p).display().to_string();
        let mut c = Command::new(tool);
        for (k, v) in [
            ("Dir::Etc::SourceList", d("sources.list")),
            ("Dir::Etc::SourceParts", "/dev/null".into()),
            ("Dir::Etc::Preferences", d("etc/preferences")),
            ("Dir::Etc::PreferencesParts", d("etc/preferences.d")),
            ("Dir::State::Lists", d("lists")),
            ("Dir::State::status", d("status")),
            ("Dir::Cache", d("cache")),
            ("APT::Architecture", "s390x".into()),
            ("APT::Architectures", "s390x".into()),
            ("APT::Sandbox::User", "root".into()),
        ] {
            c.arg("-o").arg(format!("{k}={v}"));
        }
        c
    }

    /// `apt-get update` unless the lists are younger than a day.
    pub fn update(&self, force: bool) -> Result<(), Error> {
        let stamp = self.dir.join("lists/.updated");
        if is_fresh(&stamp) && !force {
            return Ok(());
        }
        run_quiet(
            self.apt("apt-get").args(["update", "-qq"]),
            "apt-get update (s390x lists)",
        )?;
        std::fs::write(&stamp, "").map_err(|e| Error::io(&stamp, e))
    }

    /// Every s390x kernel image package the lists name.
    pub fn image_packages(&self) -> Result<Vec<String>, Error> {
        let out = run_quiet(
            self.apt("apt-cache")
                .args(["search", "--names-only", "^linux-image-[0-9].*-s390x$"]),
            "apt-cache search",
        )?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect())
    }

    fn known(&self, package: &str) -> bool {
        self.apt("apt-cache")
            .args(["show", package])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The .deb of `package` in the cache, downloading it if needed. None when the mirror does
    /// not serve it (the index can name a removed version).
    pub fn fetch(&self, package: &str) -> Result<Option<PathBuf>, Error> {
        let debs = self.dir.join("debs");
        if let Some(f) = find_deb(&debs, package) {
            return Ok(Some(f));
        }
        // The index can name a version the mirror no longer serves: remember that for a day.
        let unserved = debs.join(format!(".unserved-{package}"));
        if is_fresh(&unserved) {
            return Ok(None);
        }
        let ok = self
            .apt("apt-get")
            .args(["download", "-qq", package])
            .current_dir(&debs)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let found = if ok { find_deb(&debs, package) } else { None };
        if found.is_none() {
            let _ = std::fs::write(&unserved, "");
        }
        Ok(found)
    }

    /// The newest image of `series` that really downloads, with sid's split packages
    /// (`linux-binary-V`, `linux-modules-V`: the image package is then a stub), unpacked.
    pub fn kernel(&self, series: &str, cache: &Path) -> Result<BootKernel, Error> {
        let names = self.image_packages()?;
        let candidates = candidates_for(series, &names);
        if candidates.is_empty() {
            return Err(Error::setup(format!(
                "the Debian mirror has no s390x kernel of series {series} (it has: {})",
                series_of(&names).join(", ")
            )));
        }
        for package in &candidates {
            let Some(deb) = self.fetch(package)? else {
                continue;
            };
            let release = package.trim_start_matches("linux-image-").to_string();
            let mut debs = vec![deb.clone()];
            for extra in [
                format!("linux-binary-{release}"),
                format!("linux-modules-{release}"),
            ] {
                if self.known(&extra) {
                    match self.fetch(&extra)? {
                        Some(d) => debs.push(d),
                        None => {
                            return Err(Error::setup(format!(
                                "{package} needs {extra}, which the mirror does not serve"
                            )))
                        }
                    }
                }
            }
            let root = cache.join("kernels").join(&release);
            for d in &debs {
                unpack_deb(d, &root)?;
            }
            let (_, version) =
                deb_name_version(&deb.file_name().unwrap().to_string_lossy()).unwrap_or_default();
            return debian_kernel(&root, &release, &format!("{package} {version}"));
        }
        Err(Error::setup(format!(
            "the mirror serves none of the series-{series} images its index names: {}",
            candidates.join(", ")
        )))
    }

    /// Debian's static busybox for s390x, unpacked; its path.
    pub fn busybox(&self, cache: &Path) -> Result<PathBuf, Error> {
        let deb = self.fetch("busybox-static")?.ok_or_else(|| {
            Error::setup("the Debian mirror did not serve busybox-static for s390x".into())
        })?;
        let root = cache.join("busybox");
        unpack_deb(&deb, &root)?;
        let bb = root.join("usr/bin/busybox");
        if bb.is_file() {
            Ok(bb)
        } else {
            Err(Error::setup(format!(
                "no usr/bin/busybox in {}",
                deb.display()
            )))
        }
    }
}

/// The file exists and is younger than LIST_MAX_AGE.
fn is_fresh(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < LIST_MAX_AGE)
}

fn find_deb(dir: &Path, package: &str) -> Option<PathBuf> {
    let prefix = format!("{package}_");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// `dpkg -x` into `root`, once (a marker file remembers it).
fn unpack_deb(deb: &Path, root: &Path) -> Result<(), Error> {
    let marker = root.join(format!(
        ".unpacked-{}",
        deb.file_name().unwrap().to_string_lossy()
    ));
    if marker.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    run_quiet(
        Command::new("dpkg").arg("-x").arg(deb).arg(root),
        &format!("dpkg -x {}", deb.display()),
    )?;
    std::fs::write(&marker, "").map_err(|e| Error::io(&marker, e))
}

/// Image, kvm.ko and the FBA DASD driver of an unpacked Debian kernel.
fn debian_kernel(root: &Path, release: &str, label: &str) -> Result<BootKernel, Error> {
    let files = walk(root);
    let image = files
        .iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "vmlinuz" || n.starts_with("vmlinuz-"))
        })
        .cloned()
        .ok_or_else(|| Error::setup(format!("no vmlinuz in {}", root.display())))?;
    let module = |name: &str| {
        files
            .iter()
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n == name || n.strip_prefix(name).is_some_and(|r| r.starts_with('.'))
                })
            })
            .cloned()
    };
    let kvm =
        module("kvm.ko").ok_or_else(|| Error::setup(format!("no kvm.ko in {}", root.display())))?;
    let mut modules = vec![Module {
        path: kvm,
        params: String::new(),
    }];
    modules.extend(dasd_modules(
        module("dasd_mod.ko"),
        module("dasd_fba_mod.ko"),
    ));
    Ok(BootKernel {
        label: label.to_string(),
        name: release.to_string(),
        image,
        modules,
        series: None,
    })
}

fn dasd_modules(dasd: Option<PathBuf>, fba: Option<PathBuf>) -> Vec<Module> {
    let mut m = Vec::new();
    if let Some(path) = dasd {
        m.push(Module {
            path,
            params: "dasd=0.0.0120".into(),
        });
    }
    if let Some(path) = fba {
        m.push(Module {
            path,
            params: String::new(),
        });
    }
    m
}

/// A maintainer's own kernel: the image, its kvm.ko (None: built in), and the DASD modules
/// found beside kvm.ko (none: the driver is built in, `dasd=` on the command line).
pub fn own_kernel(image: &Path, kvm_module: Option<&Path>) -> BootKernel {
    let mut modules = Vec::new();
    if let Some(kvm) = kvm_module {
        modules.push(Module {
            path: kvm.to_path_buf(),
            params: String::new(),
        });
        // In a build tree kvm.ko is arch/s390/kvm/kvm.ko and the DASD driver is under
        // drivers/s390/block/; in an installed tree both are below lib/modules/V/kernel.
        // Four levels up from kvm.ko is the directory that holds both arch/ and drivers/.
        let near: Vec<PathBuf> = kvm.ancestors().nth(4).map(walk).unwrap_or_default();
        let find = |name: &str| {
            near.iter()
                .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
                .cloned()
        };
        modules.extend(dasd_modules(find("dasd_mod.ko"), find("dasd_fba_mod.ko")));
    }
    BootKernel {
        label: image.display().to_string(),
        name: image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "kernel".into()),
        image: image.to_path_buf(),
        modules,
        series: None,
    }
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The Debian mirror this system uses (deb822 `URIs:` or a classic `deb` line).
fn system_mirror() -> Result<String, Error> {
    for (file, deb822) in [
        ("/etc/apt/sources.list.d/debian.sources", true),
        ("/etc/apt/sources.list", false),
    ] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for l in text.lines() {
            let mut w = l.split_whitespace();
            match (deb822, w.next()) {
                (true, Some("URIs:")) | (false, Some("deb")) => {
                    if let Some(u) = w.find(|u| u.starts_with("http")) {
                        return Ok(u.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Err(Error::setup(
        "no Debian mirror found in /etc/apt (needed to fetch the s390x kernels)".into(),
    ))
}

/// Run a command; its stdout, or an error naming it with the end of its stderr.
fn run_quiet(cmd: &mut Command, what: &str) -> Result<String, Error> {
    let out = cmd
        .output()
        .map_err(|e| Error::setup(format!("{what}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(Error::setup(format!("{what} failed: {}", last.trim())));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn names() -> Vec<String> {
        [
            "linux-image-6.1.0-47-s390x",
            "linux-image-6.1.0-50-s390x",
            "linux-image-6.12.107+deb13-s390x",
            "linux-image-6.12.117+deb13-s390x",
            "linux-image-7.2.13+deb14-s390x",
            "linux-image-6.12.117+deb13-s390x-dbg",
        ]
        .map(String::from)
        .to_vec()
    }

    #[rstest]
    #[case("6.1", &["linux-image-6.1.0-50-s390x", "linux-image-6.1.0-47-s390x"])]
    #[case("6.12", &["linux-image-6.12.117+deb13-s390x", "linux-image-6.12.107+deb13-s390x"])]
    #[case("7.2", &["linux-image-7.2.13+deb14-s390x"])]
    #[case("5.10", &[])]
    fn newest_of_the_series_first(#[case] series: &str, #[case] want: &[&str]) {
        assert_eq!(candidates_for(series, &names()), want);
    }

    #[test]
    fn series_the_mirror_serves() {
        assert_eq!(series_of(&names()), ["6.1", "6.12", "7.2"]);
    }

    #[rstest]
    #[case("6.12.9", "6.12.10", Ordering::Less)]
    #[case("6.1.0-50", "6.1.0-47", Ordering::Greater)]
    #[case("6.12", "6.2", Ordering::Greater)]
    #[case("7.2.13+deb14", "7.2.13+deb14", Ordering::Equal)]
    fn versions_compare_like_sort_v(#[case] a: &str, #[case] b: &str, #[case] want: Ordering) {
        assert_eq!(version_cmp(a, b), want);
    }

    #[test]
    fn package_version_from_the_file_name() {
        assert_eq!(
            deb_name_version("linux-image-6.12.107+deb13-s390x_6.12.107-1_s390x.deb"),
            Some((
                "linux-image-6.12.107+deb13-s390x".into(),
                "6.12.107-1".into()
            ))
        );
        assert_eq!(
            deb_name_version("busybox-static_1%3a1.37.0-6_s390x.deb"),
            Some(("busybox-static".into(), "1:1.37.0-6".into()))
        );
    }

    #[rstest]
    #[case("6.12", Ok(KernelRequest::Series("6.12".into())))]
    #[case("7.2", Ok(KernelRequest::Series("7.2".into())))]
    #[case("all", Ok(KernelRequest::All))]
    #[case("6", Err(()))]
    #[case("6.12.107", Err(()))]
    #[case("/no/such/bzImage", Err(()))]
    fn kernel_argument(#[case] arg: &str, #[case] want: Result<KernelRequest, ()>) {
        assert_eq!(KernelRequest::parse(arg, None).map_err(|_| ()), want);
    }

    #[test]
    fn own_kernel_finds_the_dasd_driver_in_the_build_tree() {
        let root = std::env::temp_dir().join(format!("kc-own-kernel-{}", std::process::id()));
        for f in [
            "arch/s390/kvm/kvm.ko",
            "drivers/s390/block/dasd_mod.ko",
            "drivers/s390/block/dasd_fba_mod.ko",
            "arch/s390/boot/bzImage",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
        }
        let k = own_kernel(
            &root.join("arch/s390/boot/bzImage"),
            Some(&root.join("arch/s390/kvm/kvm.ko")),
        );
        let names: Vec<String> = k.modules.iter().map(|m| m.guest_name()).collect();
        assert_eq!(names, ["kvm.ko", "dasd_mod.ko", "dasd_fba_mod.ko"]);
        assert_eq!(k.modules[1].params, "dasd=0.0.0120");
        // KVM built in: nothing to load, the DASD driver then must be built in too.
        assert!(own_kernel(&root.join("arch/s390/boot/bzImage"), None)
            .modules
            .is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn kvm_module_needs_an_image() {
        assert!(KernelRequest::parse("6.12", Some("/tmp/kvm.ko".into())).is_err());
    }
}
