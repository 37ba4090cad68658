//! Replacing a file so that it is never seen half written: the new content goes to a
//! temporary file in the same directory, is flushed to disk (`fsync`), renamed over the
//! old name, and the directory is flushed too. A crash, a full disk or a failed write at
//! any point leaves either the old file or the new one, never a torn mix, and no
//! temporary file behind once the writer is dropped.
//!
//! Every file weir writes whole goes through here: `weir fmt`, the workbench's save, the
//! project tree's new jobs and renames, `.weir/project`, `.weir/broker.json`, generated
//! Nexmark data, benchmark results and headless frames. Appended streams (dead letters,
//! print sinks, logs) are not: they are appended to, not replaced.
//!
//! It lives in weir-model because every crate that writes a file (app, engine, tui,
//! bench and the binary) already depends on it and on nothing else in common; it is
//! `std` only, synchronous, and does not change what a job is.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` with `contents` atomically (see the module comment). The file keeps
/// the permissions of the one it replaces; a symbolic link is followed, so the file it
/// points to is replaced and the link stays.
pub fn write_atomic(path: &Path, contents: impl AsRef<[u8]>) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(contents.as_ref()))
}

/// [`write_atomic`] with the content written by `fill`; if `fill` fails, `path` is left
/// as it was and its error returned.
pub fn write_atomic_with<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let mut file = AtomicFile::create(path)?;
    fill(&mut file)?;
    file.commit()
}

/// A file being written under a temporary name beside its final one; [`commit`]
/// puts it in place. Dropped without `commit`, the temporary file is removed and the
/// final name is untouched. Wrap it in a `BufWriter` for many small writes.
///
/// [`commit`]: AtomicFile::commit
#[derive(Debug)]
pub struct AtomicFile {
    /// The name the content will have.
    target: PathBuf,
    /// Where it is written until then.
    temp: PathBuf,
    file: Option<File>,
}

/// Tells temporary names of one process apart.
static NEXT: AtomicU64 = AtomicU64::new(0);

impl AtomicFile {
    /// Starts replacing (or creating) `path`. Its directory must exist.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let target = resolve_link(path)?;
        let dir = parent_of(&target);
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a file", path.display()),
            )
        })?;
        let mut attempts = 0;
        loop {
            let mut temp_name = OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(
                ".weir-{}-{}.tmp",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let temp = dir.join(temp_name);
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    let mut atomic = AtomicFile {
                        target,
                        temp,
                        file: Some(file),
                    };
                    atomic.keep_permissions()?;
                    return Ok(atomic);
                }
                // a leftover of a process that had the same id: try the next name
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The name the content will have once committed.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Flushes the content to disk and puts it in place of the final name.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(mut file) = self.file.take() else {
            return Err(io::Error::other("the file was already committed"));
        };
        file.flush()?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.temp, &self.target)?;
        sync_dir(&parent_of(&self.target))
    }

    /// The new file gets the mode of the one it replaces (a new file keeps the default).
    fn keep_permissions(&mut self) -> io::Result<()> {
        match fs::metadata(&self.target) {
            Ok(meta) if meta.is_file() => fs::set_permissions(&self.temp, meta.permissions()),
            _ => Ok(()),
        }
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The file a symbolic link points to (so the link survives), else `path` itself.
fn resolve_link(path: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(target) => Ok(target),
            // a dangling link: write where it points
            Err(_) => {
                let to = fs::read_link(path)?;
                Ok(parent_of(path).join(to))
            }
        },
        _ => Ok(path.to_path_buf()),
    }
}

/// The directory of `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes the rename itself durable. Only Unix can open a directory to flush it.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-fsutil-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_and_creates() {
        let dir = scratch("replace");
        let f = dir.join("a.ron");
        write_atomic(&f, "one").unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "one");
        write_atomic(&f, "two, longer").unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "two, longer");
        assert_eq!(names(&dir), ["a.ron"], "no temporary file left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_write_that_fails_half_way_leaves_the_old_file() {
        let dir = scratch("fail");
        let f = dir.join("job.ron");
        fs::write(&f, "Job(version: 1)\n").unwrap();
        let err = write_atomic_with(&f, |w| {
            w.write_all(b"Job(vers")?;
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device",
            ))
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs::read_to_string(&f).unwrap(), "Job(version: 1)\n");
        assert_eq!(names(&dir), ["job.ron"], "the temporary file is removed");
        // a writer dropped before commit (a panic, an early return) does the same
        {
            let mut w = AtomicFile::create(&f).unwrap();
            w.write_all(b"half").unwrap();
        }
        assert_eq!(fs::read_to_string(&f).unwrap(), "Job(version: 1)\n");
        assert_eq!(names(&dir), ["job.ron"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error_and_creates_nothing() {
        let dir = scratch("nodir");
        let err = write_atomic(&dir.join("no/such/dir/x.ron"), "x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(names(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_and_follows_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("mode");
        let f = dir.join("real.ron");
        fs::write(&f, "old").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.join("link.ron");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        write_atomic(&link, "new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&f).unwrap(), "new");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(names(&dir), ["link.ron", "real.ron"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        assert_eq!(parent_of(Path::new("x.ron")), PathBuf::from("."));
        assert_eq!(parent_of(Path::new("d/x.ron")), PathBuf::from("d"));
    }
}
