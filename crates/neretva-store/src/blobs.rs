//! Content-addressed files: evidence items and raw e-mails, each stored once under its SHA-256
//! (`<root>/ab/cd/abcd…`, [`Sha256::blob_path`]), beside the database that describes them.
//!
//! A blob is written to a temporary file in `<root>/tmp`, hashed and counted while it streams in
//! (refused as soon as it passes the size limit, so an oversized upload is never held whole),
//! flushed to disk, and renamed into place: a blob path only ever holds complete content.
//! Writing content that is already stored leaves the stored file alone.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use neretva_incident::evidence::{BoundedHasher, EvidenceError, EvidenceLimits, Sha256};
use uuid::Uuid;

use crate::incidents::BlobRef;

/// What can go wrong with blobs.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content passed the size limit while it was written.
    #[error("the attachment is more than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The file system failed.
    #[error("evidence store {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io { path: path.display().to_string(), source }
}

/// The directory of blobs.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// How a stored blob compares with what the database says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobCheck {
    Ok,
    /// No file at the blob's path.
    Missing,
    /// The file's content no longer has the recorded digest (or size).
    Mismatch {
        sha256: Sha256,
        size: u64,
    },
}

impl BlobStore {
    /// A store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives.
    pub fn path(&self, sha256: &Sha256) -> PathBuf {
        self.root.join(sha256.blob_path())
    }

    /// Starts writing a blob of at most `limit` bytes.
    pub fn writer(&self, limit: u64) -> Result<BlobWriter, BlobError> {
        let tmp = self.root.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let temp = tmp.join(format!("{}.part", Uuid::new_v4()));
        let file = File::create_new(&temp).map_err(io(&temp))?;
        Ok(BlobWriter {
            store: self.clone(),
            file: Some(file),
            temp,
            hasher: BoundedHasher::new(&EvidenceLimits { max_bytes: limit, max_items: 0 }),
            limit,
        })
    }

    /// Stores bytes held in memory (an e-mail and its attachments).
    pub fn put(&self, bytes: &[u8]) -> Result<(Sha256, u64), BlobError> {
        let mut writer = self.writer(bytes.len() as u64)?;
        writer.write(bytes)?;
        writer.finish()
    }

    /// Opens a stored blob; `None` when it is missing.
    pub fn open(&self, sha256: &Sha256) -> Result<Option<File>, BlobError> {
        let path = self.path(sha256);
        match File::open(&path) {
            Ok(file) => Ok(Some(file)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io(&path)(error)),
        }
    }

    /// Re-hashes a stored blob and compares it with its reference.
    pub fn check(&self, blob: &BlobRef) -> Result<BlobCheck, BlobError> {
        let Some(mut file) = self.open(&blob.sha256)? else { return Ok(BlobCheck::Missing) };
        let path = self.path(&blob.sha256);
        let mut hasher = BoundedHasher::new(&EvidenceLimits { max_bytes: u64::MAX, max_items: 0 });
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = file.read(&mut buffer).map_err(io(&path))?;
            if read == 0 {
                break;
            }
            // The limit is u64::MAX: hashing cannot fail.
            let _ = hasher.update(&buffer[..read]);
        }
        let (sha256, size) = hasher.finish();
        if sha256 == blob.sha256 && size == blob.size {
            Ok(BlobCheck::Ok)
        } else {
            Ok(BlobCheck::Mismatch { sha256, size })
        }
    }
}

/// A blob being written; dropped unfinished, its temporary file goes.
#[derive(Debug)]
pub struct BlobWriter {
    store: BlobStore,
    file: Option<File>,
    temp: PathBuf,
    hasher: BoundedHasher,
    limit: u64,
}

impl BlobWriter {
    /// Appends a chunk; refuses it when the blob would pass the limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.hasher.update(chunk).map_err(|error| match error {
            EvidenceError::TooLarge { limit, .. } => BlobError::TooLarge { limit },
            _ => BlobError::TooLarge { limit: self.limit },
        })?;
        let file = self.file.as_mut().ok_or_else(|| BlobError::Io {
            path: self.temp.display().to_string(),
            source: std::io::Error::other("written after an error"),
        })?;
        file.write_all(chunk).map_err(io(&self.temp))
    }

    /// Flushes the content to disk and moves it to its blob path; returns its digest and size.
    pub fn finish(mut self) -> Result<(Sha256, u64), BlobError> {
        let (sha256, size) = self.hasher.clone().finish();
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(io(&self.temp))?;
        }
        let target = self.store.path(&sha256);
        if target.exists() {
            // Stored before: the same content, by its digest.
            let _ = std::fs::remove_file(&self.temp);
            return Ok((sha256, size));
        }
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::rename(&self.temp, &target).map_err(io(&target))?;
        if let Some(dir) = target.parent().and_then(|dir| File::open(dir).ok()) {
            // Makes the rename itself durable where the platform allows syncing a directory.
            let _ = dir.sync_all();
        }
        Ok((sha256, size))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.temp.exists() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(name: &str) -> BlobStore {
        let root = std::env::temp_dir().join(format!("neretva-blobs-{name}-{}", Uuid::new_v4()));
        BlobStore::new(root)
    }

    #[test]
    fn blobs_are_content_addressed_and_verified() {
        let blobs = store("addressed");
        let (sha256, size) = blobs.put(b"evidence").unwrap();
        assert_eq!((sha256, size), (Sha256::of(b"evidence"), 8));
        let path = blobs.path(&sha256);
        assert!(path.ends_with(sha256.blob_path()));
        assert_eq!(std::fs::read(&path).unwrap(), b"evidence");
        // The same content again leaves the stored file alone.
        assert_eq!(blobs.put(b"evidence").unwrap(), (sha256, 8));
        let reference = BlobRef { sha256, size };
        assert_eq!(blobs.check(&reference).unwrap(), BlobCheck::Ok);
        std::fs::write(&path, b"tampered").unwrap();
        assert_eq!(
            blobs.check(&reference).unwrap(),
            BlobCheck::Mismatch { sha256: Sha256::of(b"tampered"), size: 8 }
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(blobs.check(&reference).unwrap(), BlobCheck::Missing);
        let tmp: Vec<_> = std::fs::read_dir(blobs.root().join("tmp")).unwrap().collect();
        assert!(tmp.is_empty(), "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(blobs.root());
    }

    #[test]
    fn oversized_blobs_are_refused_while_streaming_and_leave_nothing() {
        let blobs = store("limit");
        let mut writer = blobs.writer(10).unwrap();
        writer.write(b"0123456").unwrap();
        assert!(matches!(writer.write(b"789x"), Err(BlobError::TooLarge { limit: 10 })));
        drop(writer);
        let tmp: Vec<_> = std::fs::read_dir(blobs.root().join("tmp")).unwrap().collect();
        assert!(tmp.is_empty(), "the partial file is removed");
        assert!(blobs.open(&Sha256::of(b"0123456")).unwrap().is_none());
        let _ = std::fs::remove_dir_all(blobs.root());
    }
}
