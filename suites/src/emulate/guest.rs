//! What the emulated machine boots besides the kernel: an initramfs (cpio newc, gzip) with
//! busybox, the modules to load, the suite's static s390x binary, `/init` (init.sh) and the
//! arguments of this run.

use super::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The guest's /init.
pub const INIT_SCRIPT: &str = include_str!("init.sh");

/// A kernel module to load in the guest, in order, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module file on the host (`.ko`, `.ko.xz` or `.ko.zst`).
    pub path: PathBuf,
    pub params: String,
}

impl Module {
    /// `kvm.ko` for `kvm.ko.xz`.
    pub fn guest_name(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for ext in [".xz", ".zst", ".gz"] {
            if let Some(stem) = name.strip_suffix(ext) {
                return stem.to_string();
            }
        }
        name
    }
}

/// Everything the initramfs holds.
pub struct Contents<'a> {
    pub busybox: &'a Path,
    pub suite: &'a Path,
    pub modules: &'a [Module],
    /// The suite's arguments, one per element (spaces allowed).
    pub args: &'a [String],
    /// `NAME=value` pairs exported for the suite.
    pub env: &'a [(String, String)],
}

/// The lines of `/kc/args`: one argument each, so arguments may hold spaces. A newline inside
/// an argument cannot be carried and is refused.
pub fn args_file(args: &[String]) -> Result<String, Error> {
    let mut out = String::new();
    for a in args {
        if a.contains('\n') {
            return Err(Error::usage(format!(
                "an argument for the emulated run contains a newline: {a:?}"
            )));
        }
        out.push_str(a);
        out.push('\n');
    }
    Ok(out)
}

/// The lines of `/kc/modules`: `name params`.
pub fn modules_file(modules: &[Module]) -> String {
    modules
        .iter()
        .map(|m| format!("{} {}\n", m.guest_name(), m.params))
        .collect()
}

/// The lines of `/kc/env`.
pub fn env_file(env: &[(String, String)]) -> Result<String, Error> {
    let mut out = String::new();
    for (k, v) in env {
        if v.contains('\n') || k.contains('=') {
            return Err(Error::usage(format!("cannot pass {k}={v:?} to the guest")));
        }
        out.push_str(&format!("{k}={v}\n"));
    }
    Ok(out)
}

/// Write the gzip-compressed initramfs to `out`.
pub fn write_initramfs(contents: &Contents, out: &Path) -> Result<(), Error> {
    let file = std::fs::File::create(out).map_err(|e| Error::io(out, e))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut cpio = Cpio::new(gz);
    for dir in ["bin", "sbin", "proc", "sys", "dev", "tmp", "etc", "kc"] {
        cpio.dir(dir)?;
    }
    cpio.file("bin/busybox", &read(contents.busybox)?, 0o755)?;
    cpio.symlink("bin/sh", "busybox")?;
    cpio.file("init", INIT_SCRIPT.as_bytes(), 0o755)?;
    cpio.file("kvm-conformance", &read(contents.suite)?, 0o755)?;
    for m in contents.modules {
        let data = decompress(&m.path)?;
        cpio.file(&format!("kc/{}", m.guest_name()), &data, 0o644)?;
    }
    cpio.file(
        "kc/modules",
        modules_file(contents.modules).as_bytes(),
        0o644,
    )?;
    cpio.file("kc/args", args_file(contents.args)?.as_bytes(), 0o644)?;
    cpio.file("kc/env", env_file(contents.env)?.as_bytes(), 0o644)?;
    let gz = cpio.finish()?;
    gz.finish()
        .and_then(|mut f| f.flush())
        .map_err(|e| Error::io(out, e))
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// A module file as the guest's insmod needs it: Debian ships them xz- (6.x) or zstd-compressed.
fn decompress(path: &Path) -> Result<Vec<u8>, Error> {
    let tool = match path.extension().and_then(|e| e.to_str()) {
        Some("xz") => "xz",
        Some("zst") => "zstd",
        Some("gz") => "gzip",
        _ => return read(path),
    };
    let out = std::process::Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .map_err(|e| {
            Error::setup(format!(
                "cannot run {tool} to unpack {}: {e}",
                path.display()
            ))
        })?;
    if !out.status.success() {
        return Err(Error::setup(format!(
            "{tool} -dc {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// A cpio newc writer over the `cpio` crate, numbering inodes itself.
struct Cpio<W: Write> {
    w: Option<W>,
    ino: u32,
}

impl<W: Write> Cpio<W> {
    fn new(w: W) -> Self {
        Self { w: Some(w), ino: 1 }
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) -> Result<(), Error> {
        let w = self.w.take().expect("writer present");
        let len = u32::try_from(data.len())
            .map_err(|_| Error::setup(format!("{name} is too large for an initramfs")))?;
        let mut entry = cpio::newc::Builder::new(name)
            .ino(self.ino)
            .mode(mode)
            .nlink(1)
            .write(w, len);
        self.ino += 1;
        let io = |e| Error::setup(format!("writing the initramfs ({name}): {e}"));
        entry.write_all(data).map_err(io)?;
        self.w = Some(entry.finish().map_err(io)?);
        Ok(())
    }

    fn dir(&mut self, name: &str) -> Result<(), Error> {
        self.entry(name, 0o040_755, &[])
    }

    fn file(&mut self, name: &str, data: &[u8], perm: u32) -> Result<(), Error> {
        self.entry(name, 0o100_000 | perm, data)
    }

    fn symlink(&mut self, name: &str, target: &str) -> Result<(), Error> {
        self.entry(name, 0o120_777, target.as_bytes())
    }

    fn finish(mut self) -> Result<W, Error> {
        let w = self.w.take().expect("writer present");
        cpio::newc::trailer(w).map_err(|e| Error::setup(format!("writing the initramfs: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("/k/kernel/arch/s390/kvm/kvm.ko.xz", "kvm.ko")]
    #[case("/k/dasd_mod.ko.zst", "dasd_mod.ko")]
    #[case("/build/kvm.ko", "kvm.ko")]
    fn module_names_in_the_guest(#[case] path: &str, #[case] name: &str) {
        let m = Module {
            path: path.into(),
            params: String::new(),
        };
        assert_eq!(m.guest_name(), name);
    }

    #[test]
    fn arguments_keep_their_spaces_one_per_line() {
        let args = vec![
            "--machine".to_string(),
            "emulated: Hercules 3.13, 2 CPUs".to_string(),
            "s390_skeys::".to_string(),
        ];
        assert_eq!(
            args_file(&args).unwrap(),
            "--machine\nemulated: Hercules 3.13, 2 CPUs\ns390_skeys::\n"
        );
        assert!(args_file(&["a\nb".to_string()]).is_err());
    }

    #[test]
    fn modules_in_order_with_parameters() {
        let mods = [
            Module {
                path: "/x/kvm.ko.xz".into(),
                params: String::new(),
            },
            Module {
                path: "/x/dasd_mod.ko.xz".into(),
                params: "dasd=0.0.0120".into(),
            },
        ];
        assert_eq!(modules_file(&mods), "kvm.ko \ndasd_mod.ko dasd=0.0.0120\n");
    }

    #[test]
    fn initramfs_holds_init_args_and_binaries() {
        let dir = std::env::temp_dir().join(format!("kc-initramfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bb = dir.join("busybox");
        let suite = dir.join("suite");
        std::fs::write(&bb, b"BUSYBOX").unwrap();
        std::fs::write(&suite, b"SUITE").unwrap();
        let out = dir.join("initrd.gz");
        let args = vec!["--seed".to_string(), "7".to_string()];
        write_initramfs(
            &Contents {
                busybox: &bb,
                suite: &suite,
                modules: &[],
                args: &args,
                env: &[("KVM_CONFORMANCE_LAUNCHER".into(), "./run.sh".into())],
            },
            &out,
        )
        .unwrap();
        // Read it back with the same crate: every entry, in order, with its data.
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&out).unwrap());
        let mut r = std::io::BufReader::new(gz);
        let mut seen = std::collections::BTreeMap::new();
        loop {
            let mut reader = cpio::newc::Reader::new(r).unwrap();
            if reader.entry().is_trailer() {
                break;
            }
            let name = reader.entry().name().to_string();
            let mode = reader.entry().mode();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut reader, &mut data).unwrap();
            seen.insert(name, (mode, data));
            r = reader.finish().unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(seen["init"].0, 0o100_755);
        assert_eq!(seen["init"].1, INIT_SCRIPT.as_bytes());
        assert_eq!(seen["bin/sh"], (0o120_777, b"busybox".to_vec()));
        assert_eq!(seen["kvm-conformance"].1, b"SUITE");
        assert_eq!(seen["kc/args"].1, b"--seed\n7\n");
        assert_eq!(seen["kc/env"].1, b"KVM_CONFORMANCE_LAUNCHER=./run.sh\n");
        assert_eq!(seen["kc"].0, 0o040_755);
    }
}
