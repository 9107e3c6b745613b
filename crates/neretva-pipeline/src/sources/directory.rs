//! The `directory` source, polling a directory for new files, and the `file` source, reading
//! one file once.
//!
//! Polling needs no file system notifications, so it works the same on local disks and
//! network shares. A file is read once its size and modification time are the same at two
//! polls in a row: a file still being written (or copied in) is left for later.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::sources::decompress::{DecompressLimits, decompress};
use crate::sources::{
    DirectorySourceConfig, FileSourceConfig, Ingester, Polled, SourceError, blocking, poll_every, stopped,
};

/// Whether a file name matches a pattern where `*` matches any characters (none included)
/// and `?` exactly one; everything else matches itself, case included.
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was, and where in the name its match would end next.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = name.get(n) {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some('?') => {
                p += 1;
                n += 1;
            }
            Some(&expected) if expected == c => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// The source stored with report `name` read from the file at `path`: `file:<path>` when the
/// report is the file itself, `file:<path>/<name>` when it was decompressed from it, so the
/// parser sees the report's own name as its file name.
pub fn report_source(path: &Path, name: &str) -> String {
    if path.file_name().is_some_and(|file_name| file_name.to_string_lossy() == name) {
        format!("file:{}", path.display())
    } else {
        format!("file:{}/{name}", path.display())
    }
}

/// A file's size and modification time at one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileState {
    size: u64,
    modified: Option<SystemTime>,
}

/// What the directory held at the previous poll, and the files processed (or failed for
/// good) in the state they had then.
#[derive(Debug, Default)]
struct Tracker {
    previous: HashMap<PathBuf, FileState>,
    processed: HashMap<PathBuf, FileState>,
}

impl Tracker {
    /// Takes a poll's listing and returns the files to read, sorted: those unchanged since the
    /// previous poll and not processed in that state.
    fn ready(&mut self, listing: Vec<(PathBuf, FileState)>) -> Vec<PathBuf> {
        let mut ready = Vec::new();
        let mut current = HashMap::with_capacity(listing.len());
        for (path, state) in listing {
            if self.previous.get(&path) == Some(&state) && self.processed.get(&path) != Some(&state) {
                ready.push(path.clone());
            }
            current.insert(path, state);
        }
        // Files that are gone are forgotten, so memory follows the directory.
        self.processed.retain(|path, _| current.contains_key(path));
        self.previous = current;
        ready.sort();
        ready
    }

    /// Remembers a file as processed in the state it was listed in.
    fn done(&mut self, path: &Path) {
        if let Some(state) = self.previous.get(path) {
            self.processed.insert(path.to_owned(), state.clone());
        }
    }
}

/// Stored reports looked at when a directory source without `done_dir` starts.
const MAX_RESUMED_REPORTS: usize = 20_000;

/// When each file was last read, by its path, from stored reports' sources and receiving times:
/// `file:<path>` is the file itself, `file:<path>/<name>` a report unpacked from it (`<name>`
/// may hold `/` itself, so every leading part of a source counts; the directories among them
/// are never listed as files).
fn read_times<'a>(
    reports: impl Iterator<Item = (&'a str, time::OffsetDateTime)>,
) -> HashMap<&'a str, time::OffsetDateTime> {
    let mut read_at: HashMap<&str, time::OffsetDateTime> = HashMap::new();
    for (source, received_at) in reports {
        let Some(path) = source.strip_prefix("file:") else { continue };
        let containers = path.match_indices('/').map(|(at, _)| &path[..at]);
        for path in std::iter::once(path).chain(containers) {
            let newest = read_at.entry(path).or_insert(received_at);
            *newest = (*newest).max(received_at);
        }
    }
    read_at
}

/// Polls the directory every `poll_seconds` until shut down.
pub(crate) async fn watch_directory(
    ingester: Ingester,
    config: DirectorySourceConfig,
    limits: DecompressLimits,
    shutdown: watch::Receiver<bool>,
) {
    let period = Duration::from_secs(config.poll_seconds.max(1));
    let directory = Directory { config, limits, tracker: Tracker::default() };
    poll_every(ingester, period, directory, shutdown).await;
}

/// A watched directory and what was seen in it.
struct Directory {
    config: DirectorySourceConfig,
    limits: DecompressLimits,
    tracker: Tracker,
}

impl Polled for Directory {
    async fn poll(&mut self, ingester: &Ingester) {
        poll_directory(ingester, &self.config, self.limits, &mut self.tracker).await;
    }

    /// Without `done_dir` files stay where they are: those the feed's stored reports were read
    /// from, and unchanged since, count as processed, so a restart does not read them all again.
    async fn resume(&mut self, ingester: &Ingester) {
        if self.config.done_dir.is_some() {
            return;
        }
        // A directory that cannot be listed is the first poll's failure to report.
        let Ok(listing) = listing(&self.config).await else { return };
        let Some(oldest) = listing.iter().filter_map(|(_, state)| state.modified).min() else { return };
        let since = time::OffsetDateTime::from(oldest);
        let reports = match ingester.stored_reports(MAX_RESUMED_REPORTS, Some(since)).await {
            Ok(reports) => reports,
            Err(error) => {
                tracing::warn!(feed = %ingester.feed, %error, "Cannot read the stored reports; every file is read again.");
                return;
            }
        };
        let read_at = read_times(reports.iter().map(|report| (report.source.as_str(), report.received_at)));
        let mut kept = 0;
        for (path, state) in listing {
            let read = read_at.get(path.display().to_string().as_str());
            if let (Some(read), Some(modified)) = (read, state.modified)
                && time::OffsetDateTime::from(modified) <= *read
            {
                self.tracker.processed.insert(path, state);
                kept += 1;
            }
        }
        if kept > 0 {
            tracing::info!(feed = %ingester.feed, files = kept, "Files read before the restart are not read again.");
        }
    }

    /// Two looks a second apart, so a file that arrived since the last poll is read now.
    async fn poll_now(&mut self, ingester: &Ingester) {
        poll_directory(ingester, &self.config, self.limits, &mut self.tracker).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        poll_directory(ingester, &self.config, self.limits, &mut self.tracker).await;
    }
}

/// Reads the file once, unless shut down first.
pub(crate) async fn read_file_once(
    ingester: Ingester,
    config: FileSourceConfig,
    limits: DecompressLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::select! {
        biased;
        () = stopped(&mut shutdown) => {}
        result = ingest_file(&ingester, &config.path, limits) => {
            if let Err(error) = result {
                ingester.failed(&error);
            }
            ingester.polled().await;
        }
    }
}

async fn poll_directory(
    ingester: &Ingester,
    config: &DirectorySourceConfig,
    limits: DecompressLimits,
    tracker: &mut Tracker,
) {
    let listing = match listing(config).await {
        Ok(listing) => listing,
        Err(error) => {
            ingester.failed(&error);
            return;
        }
    };
    for path in tracker.ready(listing) {
        match ingest_file(ingester, &path, limits).await {
            Ok(()) => {
                if let Some(done_dir) = &config.done_dir {
                    let (from, to) = (path.clone(), done_dir.clone());
                    let moved = blocking(&path.display().to_string(), move || move_into(&from, &to)).await;
                    match moved {
                        Ok(to) => {
                            tracing::debug!(feed = %ingester.feed, from = %path.display(), to = %to.display(), "Moved a processed file.")
                        }
                        Err(error) => ingester.failed(&error),
                    }
                }
                tracker.done(&path);
            }
            Err(error) => {
                ingester.failed(&error);
                // A file that can never succeed is not tried again until it changes; after
                // an IO or store failure it is tried again at the next poll.
                if !error.is_transient() {
                    tracker.done(&path);
                }
            }
        }
    }
}

/// The directory's files as [`list_files`] lists them, off the async threads.
async fn listing(config: &DirectorySourceConfig) -> Result<Vec<(PathBuf, FileState)>, SourceError> {
    let dir = config.path.clone();
    let pattern = config.pattern.clone();
    blocking(&config.path.display().to_string(), move || {
        list_files(&dir, pattern.as_deref())
            .map_err(|source| SourceError::Read { path: dir.display().to_string(), source })
    })
    .await
}

/// The regular files in `dir` whose names match `pattern`, except those starting with a dot.
fn list_files(dir: &Path, pattern: Option<&str>) -> std::io::Result<Vec<(PathBuf, FileState)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || pattern.is_some_and(|pattern| !matches_pattern(pattern, &name)) {
            continue;
        }
        let path = entry.path();
        // Symbolic links are followed; a file that vanished since the listing is skipped.
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        if metadata.is_file() {
            files.push((path, FileState { size: metadata.len(), modified: metadata.modified().ok() }));
        }
    }
    Ok(files)
}

/// Reads, decompresses and ingests one file, every report it holds.
async fn ingest_file(ingester: &Ingester, path: &Path, limits: DecompressLimits) -> Result<(), SourceError> {
    let display = path.display().to_string();
    let owned = path.to_owned();
    let data = blocking(&display, move || read_file(&owned, limits.max_report_bytes)).await?;
    // Counted before unpacking: bytes read, also of a file that then fails to unpack.
    ingester.received(data.len());
    let owned = path.to_owned();
    let reports = blocking(&display, move || unpack(&owned, data, &limits)).await?;
    for (source, data) in reports {
        ingester.ingest(&source, data).await?;
    }
    Ok(())
}

/// Reads a file as every source of files does: at most `limits.max_report_bytes` of it (a
/// larger file is refused without being read), decompressed with the limits
/// ([`decompress`]); each report with the source it is stored with ([`report_source`]).
pub fn read_reports(path: &Path, limits: &DecompressLimits) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    let data = read_file(path, limits.max_report_bytes)?;
    unpack(path, data, limits)
}

/// The reports of the file at `path` that holds `data`, each with its source.
fn unpack(
    path: &Path,
    data: Vec<u8>,
    limits: &DecompressLimits,
) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    let file_name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
    Ok(decompress(&file_name, data, limits)?
        .into_iter()
        .map(|(name, data)| (report_source(path, &name), data))
        .collect())
}

/// Reads a file of at most `limit` bytes, without reading more than one byte past it.
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, SourceError> {
    let display = || path.display().to_string();
    let read_error = |source| SourceError::Read { path: display(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > limit {
        return Err(SourceError::TooLarge { name: display(), limit });
    }
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut data).map_err(read_error)?;
    if data.len() as u64 > limit {
        return Err(SourceError::TooLarge { name: display(), limit });
    }
    Ok(data)
}

/// Moves a file into `dir` (created if need be) under its own name, or with `.1`, `.2`, ...
/// appended when that name is taken; returns where it went.
fn move_into(path: &Path, dir: &Path) -> Result<PathBuf, SourceError> {
    let move_error = |to: &Path, source| SourceError::Move {
        from: path.display().to_string(),
        to: to.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| move_error(dir, source))?;
    let name = path.file_name().map_or_else(|| "unnamed".into(), std::ffi::OsStr::to_os_string);
    let mut target = dir.join(&name);
    let mut suffix = 0;
    while target.exists() {
        suffix += 1;
        if suffix > 1000 {
            let source =
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "1000 files of that name are there");
            return Err(move_error(&target, source));
        }
        let mut numbered = name.clone();
        numbered.push(format!(".{suffix}"));
        target = dir.join(numbered);
    }
    match std::fs::rename(path, &target) {
        Ok(()) => Ok(target),
        // Another file system: copy, then remove.
        Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => {
            std::fs::copy(path, &target).map_err(|source| move_error(&target, source))?;
            std::fs::remove_file(path).map_err(|source| move_error(&target, source))?;
            Ok(target)
        }
        Err(source) => Err(move_error(&target, source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_when_their_reports_say() {
        let (t1, t2) =
            (time::macros::datetime!(2026-11-30 08:00 UTC), time::macros::datetime!(2026-11-30 09:00 UTC));
        let reports = [
            ("file:/srv/drop/a.csv", t1),
            ("file:/srv/drop/a.csv", t2),
            ("file:/srv/drop/b.zip/2026-11-30-scan_dns-bih-geo.csv", t1),
            ("file:/srv/drop/c.tar.gz/reports/x.csv", t2),
            ("url:https://feeds.example/list.csv#list.csv", t2),
        ];
        let read_at = read_times(reports.into_iter());
        assert_eq!(read_at.get("/srv/drop/a.csv"), Some(&t2), "the newest reading");
        assert_eq!(read_at.get("/srv/drop/b.zip"), Some(&t1));
        assert_eq!(read_at.get("/srv/drop/c.tar.gz"), Some(&t2), "a member in a folder of the archive");
        assert_eq!(read_at.get("https://feeds.example/list.csv"), None);
        assert_eq!(read_at.get("/srv/drop/d.csv"), None);
    }

    #[test]
    fn patterns_match_like_a_shell() {
        for (pattern, name, expected) in [
            ("*", "anything.csv", true),
            ("*.csv", "2026-11-27-scan_dns-bih-geo.csv", true),
            ("*.csv", "x.csv.gz", false),
            ("*.csv*", "x.csv.gz", true),
            ("*scan_*-bih-*.csv", "2026-11-27-scan_dns-bih-geo.csv", true),
            ("report-??.txt", "report-01.txt", true),
            ("report-??.txt", "report-1.txt", false),
            ("a*b*c", "abxbxc", true),
            ("a*b*c", "abxbx", false),
            ("*.CSV", "x.csv", false),
            ("", "", true),
            ("", "x", false),
            ("x", "", false),
        ] {
            assert_eq!(matches_pattern(pattern, name), expected, "{pattern:?} on {name:?}");
        }
    }

    #[test]
    fn report_sources_name_the_report() {
        let path = Path::new("/drop/a-scan_dns.csv.gz");
        assert_eq!(report_source(path, "a-scan_dns.csv"), "file:/drop/a-scan_dns.csv.gz/a-scan_dns.csv");
        assert_eq!(report_source(Path::new("/drop/x.csv"), "x.csv"), "file:/drop/x.csv");
    }

    #[test]
    fn files_are_ready_when_unchanged_for_a_poll_and_only_once() {
        let state =
            |size| FileState { size, modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(size)) };
        let a = PathBuf::from("/in/a");
        let b = PathBuf::from("/in/b");
        let mut tracker = Tracker::default();
        // First seen: not ready yet.
        assert!(tracker.ready(vec![(a.clone(), state(1))]).is_empty());
        // Still growing: not ready.
        assert!(tracker.ready(vec![(a.clone(), state(2)), (b.clone(), state(5))]).is_empty());
        // Unchanged for a poll: ready.
        assert_eq!(
            tracker.ready(vec![(a.clone(), state(2)), (b.clone(), state(5))]),
            vec![a.clone(), b.clone()]
        );
        tracker.done(&a);
        // Processed: not again, while b (not marked done, say after a store failure) is.
        assert_eq!(tracker.ready(vec![(a.clone(), state(2)), (b.clone(), state(5))]), vec![b.clone()]);
        // Changed after processing: again once it is stable.
        assert!(tracker.ready(vec![(a.clone(), state(3))]).is_empty());
        assert_eq!(tracker.ready(vec![(a.clone(), state(3))]), vec![a.clone()]);
        tracker.done(&a);
        // Gone: forgotten.
        assert!(tracker.ready(Vec::new()).is_empty());
        assert!(tracker.processed.is_empty() && tracker.previous.is_empty());
    }

    #[test]
    fn moved_files_do_not_overwrite_earlier_ones() {
        let dir = std::env::temp_dir().join(format!("neretva-sources-move-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let done = dir.join("done");
        std::fs::create_dir_all(&dir).unwrap();
        for content in ["one", "two"] {
            std::fs::write(dir.join("x.csv"), content).unwrap();
            move_into(&dir.join("x.csv"), &done).unwrap();
        }
        assert_eq!(std::fs::read_to_string(done.join("x.csv")).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(done.join("x.csv.1")).unwrap(), "two");
        assert!(!dir.join("x.csv").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
