//! Append-only JSON-lines files (the PrintSink's file, dead-letter files): every write is
//! whole lines in one `write_all`, and opening recovers a torn tail — a last line with no
//! newline, left by a process killed in the middle of a write — by cutting it off, so
//! that the next line never glues onto half a line.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A file opened for appending whole lines.
#[derive(Debug)]
pub struct LinesFile {
    pub file: File,
    /// Bytes of a torn last line that opening cut off (0: the file ended in a newline).
    pub torn: u64,
}

/// Opens (creating) `path` for appending lines, cutting off a torn last line first.
pub fn open(path: &Path) -> std::io::Result<LinesFile> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let keep = whole_lines_len(&mut file, len)?;
    if keep < len {
        file.set_len(keep)?;
        file.sync_data()?;
    }
    Ok(LinesFile {
        file,
        torn: len - keep,
    })
}

/// The length of the file up to and including its last newline.
fn whole_lines_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Says that `what` at `path` ended in a torn line that was cut off (in the log and on
/// stderr: someone reading the file should know a line was dropped there).
pub fn report_torn(what: &str, path: &Path, torn: u64) {
    if torn > 0 {
        let msg = format!(
            "{what} {}: the last line was torn ({torn} bytes with no newline, left by a run that was killed mid-write); cut it off before appending",
            path.display()
        );
        tracing::warn!("{msg}");
        eprintln!("warning: {msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_off_and_whole_lines_are_kept() {
        let dir = std::env::temp_dir().join(format!("weir-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.jsonl");
        std::fs::write(&p, "{\"a\":1}\n{\"a\":2}\n{\"a\":").unwrap();
        let f = open(&p).unwrap();
        assert_eq!(f.torn, 5);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        drop(f);
        std::fs::write(&p, "no newline at all").unwrap();
        assert_eq!(open(&p).unwrap().torn, 17);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
        std::fs::write(&p, "whole\n").unwrap();
        assert_eq!(open(&p).unwrap().torn, 0);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "whole\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
