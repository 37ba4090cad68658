//! Where checkpoints live and how they are laid out (`formats/checkpoint-v1.md`): one
//! directory per checkpoint (`chk-<id>`) or savepoint (`sp-<id>`) under a root, holding
//! each task's files (Arrow IPC) and, written last, `_manifest.json`, which lists every
//! file with its size and SHA-256. A directory without a manifest is a torn checkpoint
//! and is never read; a file that does not match its manifest entry makes the reader
//! refuse the checkpoint, naming the previous complete one.
//!
//! The root is an `object_store` location: a local directory here (each object written
//! to a temporary name and renamed), S3-compatible storage by configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

/// The manifest's `format` value.
pub const FORMAT: &str = "weir-checkpoint";
/// The layout version this engine writes and reads.
pub const VERSION: u32 = 1;
/// The manifest's file name, written after every other file of a checkpoint.
pub const MANIFEST: &str = "_manifest.json";

/// A checkpoint (retained K at a time) or a savepoint (kept until deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Checkpoint,
    Savepoint,
}

impl Kind {
    /// The directory name of checkpoint `id` of this kind.
    pub fn dir(self, id: u64) -> String {
        match self {
            Kind::Checkpoint => format!("chk-{id}"),
            Kind::Savepoint => format!("sp-{id}"),
        }
    }
}

/// One file of a task's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// One task's entry in a manifest: small facts as JSON, bulk state in files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEntry {
    pub meta: serde_json::Value,
    pub files: Vec<FileEntry>,
}

/// What `_manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub id: u64,
    pub kind: Kind,
    /// Names the line of checkpoints a run continues (kept across restores): the
    /// transactional sinks' commit markers are per lineage.
    pub lineage: String,
    pub job: String,
    /// The sha256 of the job text that ran (a restore into another job is refused).
    pub job_hash: String,
    pub created_ms: i64,
    pub duration_ms: u64,
    pub alignment_ms: u64,
    /// Bytes of every task file.
    pub size: u64,
    /// By task name (`source/<node>/<task>`, `operator/<node>`, `sink/<node>`).
    pub tasks: BTreeMap<String, TaskEntry>,
}

/// One task's state as it is written or read: meta and named files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskState {
    pub meta: serde_json::Value,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl TaskState {
    /// A state with only meta.
    pub fn meta(meta: serde_json::Value) -> Self {
        TaskState {
            meta,
            files: BTreeMap::new(),
        }
    }
}

/// A complete checkpoint, read back and verified.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Its directory under the root (`chk-7`, `sp-3`).
    pub dir: String,
    pub manifest: Manifest,
    pub tasks: BTreeMap<String, TaskState>,
}

impl Restored {
    /// The states of the tasks whose names start with `prefix`.
    pub fn tasks_under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a TaskState)> + 'a {
        self.tasks
            .iter()
            .filter(move |(name, _)| name.starts_with(prefix))
    }
}

/// A checkpoint directory found under the root, read or not.
#[derive(Debug, Clone)]
pub struct Listed {
    pub dir: String,
    /// None: no manifest (torn or in progress), or one that does not parse.
    pub manifest: Option<Manifest>,
}

/// The root of an instance's (or a run's) checkpoints.
#[derive(Debug, Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    root: Path,
    /// How the root is shown in messages (a directory, a URL).
    shown: String,
}

fn storage_error(shown: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Unavailable {
        what: "the checkpoint storage".into(),
        address: shown.to_string(),
        reason: e.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Location {
    /// A local directory (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Location> {
        std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        // removing a checkpoint's last file removes its emptied directories too
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| storage_error(&dir.display().to_string(), e))?
            .with_automatic_cleanup(true);
        Ok(Location {
            store: Arc::new(store),
            root: Path::default(),
            shown: dir.display().to_string(),
        })
    }

    /// Any object store, under `root` (S3-compatible storage, memory in tests).
    pub fn new(store: Arc<dyn ObjectStore>, root: &str, shown: impl Into<String>) -> Location {
        Location {
            store,
            root: Path::from(root),
            shown: shown.into(),
        }
    }

    /// How this location is shown in messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn path(&self, parts: &[&str]) -> Path {
        let mut p = self.root.clone();
        for part in parts {
            for piece in part.split('/') {
                p = p.clone().join(piece);
            }
        }
        p
    }

    /// Writes every task's files, then the manifest (filled in with the files' sizes and
    /// checksums); returns the bytes written. A failure leaves no manifest, so the
    /// directory is never taken for a complete checkpoint; the caller removes it.
    pub async fn write(
        &self,
        manifest: &mut Manifest,
        tasks: &BTreeMap<String, TaskState>,
    ) -> Result<u64> {
        let dir = manifest.kind.dir(manifest.id);
        let mut size = 0u64;
        manifest.tasks.clear();
        for (name, state) in tasks {
            let mut files = Vec::new();
            for (file, bytes) in &state.files {
                let path = self.path(&[&dir, name, file]);
                self.store
                    .put(&path, PutPayload::from(bytes.clone()))
                    .await
                    .map_err(|e| storage_error(&self.shown, e))?;
                size += bytes.len() as u64;
                files.push(FileEntry {
                    name: file.clone(),
                    size: bytes.len() as u64,
                    sha256: hex(&Sha256::digest(bytes)),
                });
            }
            manifest.tasks.insert(
                name.clone(),
                TaskEntry {
                    meta: state.meta.clone(),
                    files,
                },
            );
        }
        manifest.size = size;
        let text = serde_json::to_vec_pretty(manifest)
            .map_err(|e| EngineError::Internal(format!("checkpoint manifest: {e}")))?;
        self.store
            .put(&self.path(&[&dir, MANIFEST]), PutPayload::from(text))
            .await
            .map_err(|e| storage_error(&self.shown, e))?;
        Ok(size)
    }

    /// Every checkpoint and savepoint directory under the root, oldest id first.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        let listing = self
            .store
            .list_with_delimiter(Some(&self.root))
            .await
            .map_err(|e| storage_error(&self.shown, e))?;
        let mut out = Vec::new();
        for prefix in listing.common_prefixes {
            let Some(dir) = prefix.filename().map(str::to_string) else {
                continue;
            };
            if dir_id(&dir).is_none() {
                continue;
            }
            let manifest = match self.store.get(&self.path(&[&dir, MANIFEST])).await {
                Ok(r) => {
                    let bytes = r.bytes().await.map_err(|e| storage_error(&self.shown, e))?;
                    serde_json::from_slice::<Manifest>(&bytes).ok()
                }
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => return Err(storage_error(&self.shown, e)),
            };
            out.push(Listed { dir, manifest });
        }
        out.sort_by_key(|l| dir_id(&l.dir).map(|(_, id)| id));
        Ok(out)
    }

    /// Reads and verifies checkpoint `dir`. A missing manifest, another format or
    /// version, or a file that is missing or differs from its manifest entry is refused;
    /// the message names the previous complete checkpoint when there is one.
    pub async fn read(&self, dir: &str) -> Result<Restored> {
        match self.read_exact(dir).await {
            Ok(r) => Ok(r),
            Err(EngineError::Config(why)) => {
                let offer = self.previous_complete(dir).await;
                let hint = match offer {
                    Some(prev) => format!(
                        "; the previous complete one is {prev} (id {}): start from it instead",
                        dir_id(&prev).map(|(_, id)| id).unwrap_or_default()
                    ),
                    None => "; there is no earlier complete checkpoint to start from".into(),
                };
                Err(EngineError::Config(format!("{why}{hint}")))
            }
            Err(e) => Err(e),
        }
    }

    async fn read_exact(&self, dir: &str) -> Result<Restored> {
        let at = format!("checkpoint {dir} in {}", self.shown);
        let bytes = match self.store.get(&self.path(&[dir, MANIFEST])).await {
            Ok(r) => r.bytes().await.map_err(|e| storage_error(&self.shown, e))?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(EngineError::Config(format!(
                    "{at} is not complete (it has no {MANIFEST}: it was torn or is still being written)"
                )));
            }
            Err(e) => return Err(storage_error(&self.shown, e)),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| EngineError::Config(format!("{at}: {MANIFEST} does not parse ({e})")))?;
        if manifest.format != FORMAT || manifest.version != VERSION {
            return Err(EngineError::Config(format!(
                "{at} is {} version {}; this weir reads {FORMAT} version {VERSION}",
                manifest.format, manifest.version
            )));
        }
        let mut tasks = BTreeMap::new();
        for (name, entry) in &manifest.tasks {
            let mut files = BTreeMap::new();
            for f in &entry.files {
                let path = self.path(&[dir, name, &f.name]);
                let data = match self.store.get(&path).await {
                    Ok(r) => r.bytes().await.map_err(|e| storage_error(&self.shown, e))?,
                    Err(object_store::Error::NotFound { .. }) => {
                        return Err(EngineError::Config(format!(
                            "{at} is corrupted: {name}/{} is missing",
                            f.name
                        )));
                    }
                    Err(e) => return Err(storage_error(&self.shown, e)),
                };
                if data.len() as u64 != f.size || hex(&Sha256::digest(&data)) != f.sha256 {
                    return Err(EngineError::Config(format!(
                        "{at} is corrupted: {name}/{} has {} bytes that do not match its manifest entry ({} bytes, sha256 {})",
                        f.name,
                        data.len(),
                        f.size,
                        f.sha256
                    )));
                }
                files.insert(f.name.clone(), data.to_vec());
            }
            tasks.insert(
                name.clone(),
                TaskState {
                    meta: entry.meta.clone(),
                    files,
                },
            );
        }
        Ok(Restored {
            dir: dir.to_string(),
            manifest,
            tasks,
        })
    }

    /// The newest complete checkpoint or savepoint before `dir` that reads whole.
    async fn previous_complete(&self, dir: &str) -> Option<String> {
        let before = dir_id(dir)?;
        let listed = self.list().await.ok()?;
        for l in listed.iter().rev() {
            if l.manifest.is_none() || dir_id(&l.dir).is_none_or(|id| id.1 >= before.1) {
                continue;
            }
            if self.read_exact(&l.dir).await.is_ok() {
                return Some(l.dir.clone());
            }
        }
        None
    }

    /// The newest checkpoint (not savepoint) with a manifest, read and verified: what a
    /// take-over restores. A newer directory without a manifest (torn) is skipped; a
    /// newest one with a manifest that does not verify is refused (see [`Location::read`]).
    pub async fn latest(&self) -> Result<Option<Restored>> {
        let listed = self.list().await?;
        let newest = listed
            .iter()
            .rev()
            .find(|l| l.manifest.is_some() && l.dir.starts_with("chk-"));
        match newest {
            Some(l) => self.read(&l.dir).await.map(Some),
            None => Ok(None),
        }
    }

    /// Removes checkpoint directory `dir` and everything in it.
    pub async fn delete(&self, dir: &str) -> Result<()> {
        let prefix = self.path(&[dir]);
        let paths: Vec<Path> = self
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| storage_error(&self.shown, e))?;
        // the manifest first, so that a delete cut short leaves a torn directory, never a
        // complete-looking one with files missing
        let manifest = self.path(&[dir, MANIFEST]);
        if paths.contains(&manifest) {
            self.store
                .delete(&manifest)
                .await
                .map_err(|e| storage_error(&self.shown, e))?;
        }
        for p in paths.iter().filter(|p| **p != manifest) {
            match self.store.delete(p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(storage_error(&self.shown, e)),
            }
        }
        Ok(())
    }

    /// Keeps the newest `retain` complete checkpoints; removes older ones and every
    /// torn or failed checkpoint directory older than the newest complete one.
    /// Savepoints are never removed here.
    pub async fn retain(&self, retain: usize) -> Result<usize> {
        let listed = self.list().await?;
        let checkpoints: Vec<&Listed> = listed
            .iter()
            .filter(|l| l.dir.starts_with("chk-"))
            .collect();
        let complete: Vec<&&Listed> = checkpoints
            .iter()
            .filter(|l| l.manifest.is_some())
            .collect();
        let id_of = |l: &Listed| dir_id(&l.dir).map(|(_, id)| id);
        let keep_from = complete
            .len()
            .checked_sub(retain.max(1))
            .and_then(|i| complete.get(i))
            .and_then(|l| id_of(l));
        let newest_complete = complete.last().and_then(|l| id_of(l));
        let mut removed = 0;
        for l in checkpoints {
            let id = id_of(l);
            let old = match (l.manifest.is_some(), keep_from, newest_complete) {
                (true, Some(k), _) => id < Some(k),
                (false, _, Some(n)) => id < Some(n),
                _ => false,
            };
            if old {
                self.delete(&l.dir).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// (kind, id) of a directory name `chk-<id>` or `sp-<id>`.
pub fn dir_id(dir: &str) -> Option<(Kind, u64)> {
    if let Some(id) = dir.strip_prefix("chk-") {
        return id.parse().ok().map(|id| (Kind::Checkpoint, id));
    }
    dir.strip_prefix("sp-")
        .and_then(|id| id.parse().ok())
        .map(|id| (Kind::Savepoint, id))
}
