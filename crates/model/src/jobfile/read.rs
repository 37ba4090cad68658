//! Reading a job file from disk: the one place every command (validate, fmt, graph, run,
//! test, the workbench) reads one. Only regular files are read, and at most
//! [`MAX_JOB_FILE_BYTES`]: a FIFO would block forever and `/dev/zero` never ends
//! (issue 15). What the bytes mean is `check_bytes`'s business, not this module's.

use std::io::Read;
use std::path::Path;

use super::Diagnostic;

/// The largest job file weir reads: 4 MiB (formats/job-v1.md). A job is a few kilobytes;
/// a file this large is the wrong file or a hostile one.
pub const MAX_JOB_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of the job file at `path`, or a diagnostic at its line 1 saying why not: it
/// cannot be opened, it is not a regular file (a FIFO, a device, a socket, a folder), or
/// it is larger than [`MAX_JOB_FILE_BYTES`]. At most the cap plus one byte is read, so a
/// file that grows or lies about its size is still refused in bounded time.
pub fn read_job_file(path: &Path) -> Result<Vec<u8>, Box<Diagnostic>> {
    read_capped(path, MAX_JOB_FILE_BYTES)
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, Box<Diagnostic>> {
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        Box::new(Diagnostic::whole_file(
            &name,
            "unreadable",
            format!("cannot read the file: {e}"),
            Some("check the path and its permissions".into()),
        ))
    };
    // Look before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    not_regular(&name, &meta)?;
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // and again on what was opened, in case the path changed in between
    not_regular(&name, &file.metadata().map_err(unreadable)?)?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > cap {
        return Err(Box::new(Diagnostic::whole_file(
            &name,
            "too-large",
            format!(
                "the file is larger than {} KiB, the most a job file may hold",
                cap / 1024
            ),
            Some("a job file holds one job of a few kilobytes; is this the right file?".into()),
        )));
    }
    Ok(bytes)
}

/// Refuse anything but a regular file, naming what it is.
fn not_regular(name: &str, meta: &std::fs::Metadata) -> Result<(), Box<Diagnostic>> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a folder"
    } else {
        special_kind(&kind)
    };
    Err(Box::new(Diagnostic::whole_file(
        name,
        "not-a-file",
        format!("{name} is {what}, not a regular file"),
        Some(
            "give the path of a job file (.ron); weir reads job files only from regular files"
                .into(),
        ),
    )))
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_folders_are_refused_by_name() {
        let d = read_job_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(d.code, "not-a-file");
        assert!(d.message.contains("character device"), "{}", d.message);
        let d = read_job_file(&std::env::temp_dir()).unwrap_err();
        assert!(d.message.contains("a folder"), "{}", d.message);
        let d = read_job_file(Path::new("/no/such/job.ron")).unwrap_err();
        assert_eq!(d.code, "unreadable");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_one_at_the_cap_is_read() {
        let dir = std::env::temp_dir().join(format!("weir-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.ron");
        std::fs::write(&path, vec![b' '; 2049]).unwrap();
        let d = read_capped(&path, 2048).unwrap_err();
        assert_eq!(d.code, "too-large");
        assert!(d.message.contains("2 KiB"), "{}", d.message);
        std::fs::write(&path, vec![b' '; 2048]).unwrap();
        assert_eq!(read_capped(&path, 2048).unwrap().len(), 2048);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
