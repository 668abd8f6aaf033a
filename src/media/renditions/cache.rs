//! The cache of renditions made on demand: one render per file however many ask at once,
//! and a size cap kept by evicting the least recently used files.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::Context;
use tokio::sync::{OnceCell, Semaphore};

use super::{open, Rendered};
use crate::media::encode::Rendition;

/// The least recently used files of the cache, and their total size.
#[derive(Default)]
struct Lru {
    entries: HashMap<String, (u64, u64)>,
    by_use: BTreeMap<u64, String>,
    total: u64,
    clock: u64,
}

impl Lru {
    fn touch(&mut self, key: &str) -> bool {
        let Some((_, used)) = self.entries.get_mut(key) else {
            return false;
        };
        self.by_use.remove(used);
        self.clock += 1;
        *used = self.clock;
        self.by_use.insert(self.clock, key.to_string());
        true
    }

    fn remove(&mut self, key: &str) {
        if let Some((bytes, used)) = self.entries.remove(key) {
            self.by_use.remove(&used);
            self.total -= bytes;
        }
    }

    /// Adds a file, returning the files evicted to keep the total within `cap`. The file just
    /// added is evicted last, and only when it alone exceeds the cap.
    fn insert(&mut self, key: String, bytes: u64, cap: u64) -> Vec<String> {
        self.remove(&key);
        self.clock += 1;
        self.entries.insert(key.clone(), (bytes, self.clock));
        self.by_use.insert(self.clock, key);
        self.total += bytes;
        let mut evicted = Vec::new();
        while self.total > cap {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((bytes, _)) = self.entries.remove(&oldest) {
                self.total -= bytes;
            }
            evicted.push(oldest);
        }
        evicted
    }
}

/// Renditions made on demand, and the cache they are kept in.
pub struct Renditions {
    dir: PathBuf,
    cap: u64,
    lru: Mutex<Lru>,
    loaded: OnceCell<()>,
    inflight: Mutex<HashMap<String, Arc<OnceCell<Rendered>>>>,
    /// Renders at once: each keeps a core busy.
    permits: Semaphore,
    renders: AtomicU64,
}

impl Renditions {
    pub fn new(dir: PathBuf, cap: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            dir,
            cap,
            lru: Mutex::default(),
            loaded: OnceCell::new(),
            inflight: Mutex::default(),
            permits: Semaphore::new(cores),
            renders: AtomicU64::new(0),
        }
    }

    /// Renditions rendered by this process so far.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Bytes the cache holds.
    pub async fn cached_bytes(&self) -> anyhow::Result<u64> {
        self.load().await?;
        Ok(self.lru().total)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lru(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Learns what the cache directory already holds, oldest first, once per process.
    async fn load(&self) -> anyhow::Result<()> {
        self.loaded
            .get_or_try_init(|| async {
                let dir = self.dir.clone();
                let found = tokio::task::spawn_blocking(move || scan(&dir))
                    .await
                    .context("scanning the media cache panicked")??;
                let evicted = {
                    let mut lru = self.lru();
                    let mut evicted = Vec::new();
                    for (key, bytes, _) in found {
                        evicted.extend(lru.insert(key, bytes, self.cap));
                    }
                    evicted
                };
                self.unlink(evicted).await;
                Ok::<_, anyhow::Error>(())
            })
            .await?;
        Ok(())
    }

    async fn unlink(&self, keys: Vec<String>) {
        if keys.is_empty() {
            return;
        }
        let dir = self.dir.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for key in keys {
                // Whoever has the file open reads on; a file already gone is no matter.
                let _ = std::fs::remove_file(dir.join(key));
            }
        })
        .await;
    }

    /// The cached file of `key`, when the cache has it.
    async fn cached(
        &self,
        key: &str,
        rendition: Rendition,
        etag: &str,
    ) -> anyhow::Result<Option<Rendered>> {
        self.load().await?;
        if !self.lru().touch(key) {
            return Ok(None);
        }
        let path = self.dir.join(key);
        let opened = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || open(&path)).await??
        };
        match opened {
            Some((file, bytes, modified)) => Ok(Some(Rendered {
                rendition,
                file: Arc::new(file),
                path,
                bytes,
                etag: etag.to_string(),
                modified,
            })),
            None => {
                // Removed behind the cache's back (another process sharing the directory).
                self.lru().remove(key);
                Ok(None)
            }
        }
    }

    /// The file of `key`, made by `make` when the cache lacks it. Concurrent callers for one
    /// key share one render.
    pub(super) async fn get_or_render(
        &self,
        key: String,
        rendition: Rendition,
        etag: String,
        make: impl FnOnce() -> anyhow::Result<Vec<u8>> + Send + 'static,
    ) -> anyhow::Result<Rendered> {
        if let Some(found) = self.cached(&key, rendition, &etag).await? {
            return Ok(found);
        }
        let cell = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            inflight.entry(key.clone()).or_default().clone()
        };
        let result = cell
            .get_or_try_init(|| async {
                // A render that finished between the miss above and now is not repeated.
                if let Some(found) = self.cached(&key, rendition, &etag).await? {
                    return Ok(found);
                }
                let _permit = self.permits.acquire().await?;
                let path = self.dir.join(&key);
                let target = path.clone();
                let (file, bytes, modified) = tokio::task::spawn_blocking(move || {
                    let content = make()?;
                    crate::media::write_atomically(&target, &content)?;
                    open(&target)?.context("a rendition vanished as it was written")
                })
                .await
                .context("rendering panicked")??;
                self.renders.fetch_add(1, Ordering::Relaxed);
                let evicted = self.lru().insert(key.clone(), bytes, self.cap);
                self.unlink(evicted).await;
                Ok::<_, anyhow::Error>(Rendered {
                    rendition,
                    file: Arc::new(file),
                    path,
                    bytes,
                    etag: etag.clone(),
                    modified,
                })
            })
            .await
            .cloned();
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if inflight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(&key);
        }
        result
    }

    /// Forgets and removes the cached files of `keys`.
    pub async fn forget(&self, keys: Vec<String>) -> anyhow::Result<()> {
        self.load().await?;
        {
            let mut lru = self.lru();
            for key in &keys {
                lru.remove(key);
            }
        }
        self.unlink(keys).await;
        Ok(())
    }
}

/// The files under the cache directory, oldest first; half-written ones are removed.
fn scan(dir: &Path) -> anyhow::Result<Vec<(String, u64, SystemTime)>> {
    let mut found = Vec::new();
    for folder in ["generated", "renditions"] {
        let top = dir.join(folder);
        let Ok(shards) = std::fs::read_dir(&top) else {
            continue;
        };
        for shard in shards {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(shard.path())? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().to_string();
                if name.ends_with(".partial") {
                    let _ = std::fs::remove_file(entry.path());
                    continue;
                }
                let meta = entry.metadata()?;
                if !meta.is_file() {
                    continue;
                }
                let shard_name = shard.file_name().to_string_lossy().to_string();
                found.push((
                    format!("{folder}/{shard_name}/{name}"),
                    meta.len(),
                    meta.modified()?,
                ));
            }
        }
    }
    found.sort_by_key(|(_, _, modified)| *modified);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_evicts_the_least_recently_used_first_and_keeps_within_its_cap() {
        let mut lru = Lru::default();
        assert!(lru.insert("a".into(), 40, 100).is_empty());
        assert!(lru.insert("b".into(), 40, 100).is_empty());
        assert!(lru.touch("a"));
        assert_eq!(lru.insert("c".into(), 40, 100), vec!["b".to_string()]);
        assert_eq!(lru.total, 80);
        assert!(!lru.touch("b"));
        assert_eq!(
            lru.insert("huge".into(), 500, 100),
            vec!["a".to_string(), "c".into(), "huge".into()]
        );
        assert_eq!(lru.total, 0);
    }
}
