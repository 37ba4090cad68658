//! The working copy of a job: its file's canonical text (`weir fmt` output, comments
//! kept), the content hash that names it (sha256, 64 hex digits, shown as 12), and
//! `weir validate`'s verdict on it.

use sha2::{Digest, Sha256};

use super::JobId;
use crate::AppError;
use crate::jobfile::{self, Checked, Diagnostic};

/// sha256 of `text` as 64 lowercase hex digits.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The 12-character prefix of a hash that people see.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The working file's text as it is on disk; a missing file is a clear error. Read as
/// every job file is ([`jobfile::read_job_file`]): a regular file within the size cap.
pub fn read(job: &JobId) -> Result<String, AppError> {
    if !job.file.exists() {
        return Err(AppError::User(format!(
            "job {} has no working file {}; check out a version (weir job checkout {}@N) or create it",
            job.name(),
            job.file.display(),
            job.path
        )));
    }
    let bytes =
        weir_model::jobfile::read_job_file(&job.file).map_err(|d| AppError::User(d.render()))?;
    String::from_utf8(bytes).map_err(|e| {
        AppError::User(format!(
            "{} is not UTF-8 text (byte {}); save it as UTF-8",
            job.file.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The canonical text of `src`, the text of `job`'s file. A syntax error is refused with
/// its file:line:column.
pub fn canonical(job: &JobId, src: &str) -> Result<String, AppError> {
    jobfile::format_source(&job.file.display().to_string(), src).map_err(|d| {
        AppError::User(format!(
            "{}\n{} is not valid; fix it first (weir validate)",
            d.render(),
            job.file.display()
        ))
    })
}

/// The working file's canonical text and its hash, `None` when there is no file.
pub fn current(job: &JobId) -> Result<Option<(String, String)>, AppError> {
    if !job.file.exists() {
        return Ok(None);
    }
    let text = canonical(job, &read(job)?)?;
    let hash = content_hash(&text);
    Ok(Some((text, hash)))
}

/// Replace `file` with `text` at once (`weir_model::fsutil`), so a crash or a full disk
/// never leaves half a job file.
pub fn write(file: &std::path::Path, text: &str) -> Result<(), AppError> {
    weir_model::fsutil::write_atomic(file, text)
        .map_err(|e| AppError::io(format!("cannot replace {}", file.display()), e))
}

/// `weir validate --store` on a canonical text: the model's rules, the engine's SQL
/// checks, and the store's catalog (`topics`): a source without fields takes the
/// catalog's, and every difference from it is a warning.
pub fn check(job: &JobId, text: &str, topics: &[crate::governance::Topic]) -> Checked {
    super::schema::check_source(&job.file.display().to_string(), text, Some(topics))
}

/// Every diagnostic, one rendered block each.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::render)
        .collect::<Vec<_>>()
        .join("\n")
}

/// How long ago an RFC 3339 time was, for lists: `42s`, `5m`, `3h`, `12d`; the time as
/// given when it cannot be read or is in the future.
pub fn age(at: &str) -> String {
    let Ok(then) = humantime::parse_rfc3339_weak(at) else {
        return at.to_string();
    };
    let Ok(d) = std::time::SystemTime::now().duration_since(then) else {
        return "now".into();
    };
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        let h = content_hash("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(short(&h), &h[..12]);
    }

    #[test]
    fn the_working_file_is_read_as_every_job_file_is() {
        let root = std::env::temp_dir().join(format!("weir-working-{}", std::process::id()));
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        let job = |name: &str| JobId {
            project: "p".into(),
            path: name.into(),
            file: root.join("jobs").join(format!("{name}.ron")),
            root: root.clone(),
        };
        let missing = read(&job("gone")).unwrap_err().to_string();
        assert!(missing.contains("has no working file"), "{missing}");
        // a folder where the file should be is refused, not read
        std::fs::create_dir_all(root.join("jobs/dir.ron")).unwrap();
        let folder = read(&job("dir")).unwrap_err().to_string();
        assert!(
            folder.contains("not-a-file") || folder.contains("folder"),
            "{folder}"
        );
        // beyond the cap: refused without reading it whole
        let big = root.join("jobs/big.ron");
        std::fs::write(&big, vec![b' '; (jobfile::MAX_JOB_FILE_BYTES + 1) as usize]).unwrap();
        let large = read(&job("big")).unwrap_err().to_string();
        assert!(
            large.contains("too-large") || large.contains("larger"),
            "{large}"
        );
        std::fs::write(root.join("jobs/ok.ron"), "Job(name: \"ok\")").unwrap();
        assert_eq!(read(&job("ok")).unwrap(), "Job(name: \"ok\")");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
