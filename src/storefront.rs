//! The web store front's files (`static/`, compiled into the binary): compressed once with
//! brotli and gzip when the process first needs them, fingerprinted as a whole, and picked
//! per request by `Accept-Encoding` (`http::compression::negotiate`). The page links its assets under `/assets/<version>/`,
//! so they can be cached for a year; the page itself is revalidated with its ETag.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Every file directly in `static/`, by name.
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/static_files.rs"));

/// The page every store-front path answers with.
pub const PAGE: &str = "index.html";

/// Where the page refers to its assets; replaced by `/assets/<version>`.
const ASSETS_PLACEHOLDER: &str = "%ASSETS%";

/// How a representation's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The `Content-Encoding` value, none for identity.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Identity => None,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Brotli => "-br",
            Self::Gzip => "-gz",
            Self::Identity => "",
        }
    }
}

/// One file, as sent: its bytes in each encoding worth having, and its ETag base.
pub struct Asset {
    pub content_type: &'static str,
    identity: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
    hash: String,
}

/// Where compressed files are kept between runs, once `keep_compressed_in` names it.
static COMPRESSED_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Keeps the compressed forms in `dir`, by content hash, so a restart reads them rather
/// than compressing again: brotli at its best setting takes about a second for these
/// files, which would otherwise be part of every boot. Call before the first `get`.
pub fn keep_compressed_in(dir: PathBuf) {
    let _ = COMPRESSED_DIR.set(dir);
}

/// `content` compressed by `compress`, from the kept copy under `hash` when there is one.
fn compressed(hash: &str, suffix: &str, content: &[u8], compress: fn(&[u8]) -> Bytes) -> Bytes {
    let Some(dir) = COMPRESSED_DIR.get() else {
        return compress(content);
    };
    let path = dir.join(format!("{hash}{suffix}"));
    if let Ok(kept) = std::fs::read(&path) {
        return Bytes::from(kept);
    }
    let bytes = compress(content);
    // A copy is only an optimization: a read-only or full disk costs the next boot a second.
    if let Err(e) = crate::media::write_atomically(&path, &bytes) {
        tracing::debug!(error = format!("{e:#}"), "cannot keep a compressed file");
    }
    bytes
}

impl Asset {
    fn new(name: &str, content: Vec<u8>) -> Self {
        let content_type = content_type(name);
        let full_hash = hex(&Sha256::digest(&content));
        let hash = full_hash[..20].to_string();
        // Images and fonts are compressed already; compressing them again only costs time.
        let (brotli, gzip) = if is_text(content_type) {
            (
                Some(compressed(&full_hash, ".br", &content, brotli)),
                Some(compressed(&full_hash, ".gz", &content, gzip)),
            )
        } else {
            (None, None)
        };
        Self {
            content_type,
            identity: Bytes::from(content),
            brotli,
            gzip,
            hash,
        }
    }

    /// The bytes to send for what the client accepts, with the encoding they are in.
    pub fn encoded(&self, wanted: Encoding) -> (Encoding, Bytes) {
        let pick = match wanted {
            Encoding::Brotli => self.brotli.clone().map(|b| (Encoding::Brotli, b)),
            Encoding::Gzip => self.gzip.clone().map(|b| (Encoding::Gzip, b)),
            Encoding::Identity => None,
        };
        pick.unwrap_or((Encoding::Identity, self.identity.clone()))
    }

    /// A strong ETag per representation, as each encoding has other bytes.
    pub fn etag(&self, encoding: Encoding) -> String {
        format!("\"{}{}\"", self.hash, encoding.suffix())
    }

    /// Whether `If-None-Match` names any representation of this content.
    pub fn is_current(&self, if_none_match: &str) -> bool {
        if_none_match.split(',').map(str::trim).any(|tag| {
            let tag = tag.trim_start_matches("W/").trim_matches('"');
            tag == "*"
                || tag
                    .strip_prefix(self.hash.as_str())
                    .is_some_and(|rest| ["", "-br", "-gz"].contains(&rest))
        })
    }
}

/// The interactive docs' script (RapiDoc, 863 KB), compressed once like the store front's
/// files, not at every `/docs` visit.
pub fn rapidoc() -> &'static Asset {
    static RAPIDOC: OnceLock<Asset> = OnceLock::new();
    RAPIDOC.get_or_init(|| {
        Asset::new(
            "rapidoc-min.js",
            include_bytes!("../static/vendor/rapidoc/rapidoc-min.js").to_vec(),
        )
    })
}

/// The store front: its version (a hash of every file) and its files.
pub struct StoreFront {
    pub version: String,
    assets: HashMap<&'static str, Asset>,
}

impl StoreFront {
    /// Compressed once per process: brotli at its best setting takes a moment, and the
    /// files never change while it runs.
    pub fn get() -> &'static StoreFront {
        static STORE: OnceLock<StoreFront> = OnceLock::new();
        STORE.get_or_init(|| Self::build(FILES))
    }

    fn build(files: &[(&'static str, &[u8])]) -> Self {
        let mut hasher = Sha256::new();
        for (name, content) in files {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(content);
        }
        let version = hex(&hasher.finalize())[..12].to_string();
        let prefix = format!("/assets/{version}");
        let assets = files
            .iter()
            .map(|(name, content)| {
                let content = if *name == PAGE {
                    String::from_utf8_lossy(content)
                        .replace(ASSETS_PLACEHOLDER, &prefix)
                        .into_bytes()
                } else {
                    content.to_vec()
                };
                (*name, Asset::new(name, content))
            })
            .collect();
        Self { version, assets }
    }

    /// A file by name; the page is not an asset (it has its own paths).
    pub fn asset(&self, name: &str) -> Option<&Asset> {
        (name != PAGE).then(|| self.assets.get(name)).flatten()
    }

    pub fn page(&self) -> &Asset {
        self.assets
            .get(PAGE)
            .expect("static/index.html is compiled in")
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("txt") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn is_text(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type == "image/svg+xml"
}

fn brotli(content: &[u8]) -> Bytes {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(content).expect("writing to memory");
    }
    Bytes::from(out)
}

fn gzip(content: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(content).expect("writing to memory");
    Bytes::from(encoder.finish().expect("writing to memory"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_links_its_assets_under_the_version() {
        let store = StoreFront::build(&[
            (
                PAGE,
                b"<script src=\"%ASSETS%/app.js\"></script>".as_slice(),
            ),
            ("app.js", b"console.log(1)".as_slice()),
        ]);
        let (_, page) = store.page().encoded(Encoding::Identity);
        let expected = format!("<script src=\"/assets/{}/app.js\"></script>", store.version);
        assert_eq!(page, expected.as_bytes());
        assert!(store.asset(PAGE).is_none());
        assert!(store.asset("app.js").is_some());
    }

    #[test]
    fn each_encoding_has_its_own_etag_and_all_count_as_current() {
        let asset = Asset::new("a.css", b"body { color: black }".repeat(50));
        let (_, brotli) = asset.encoded(Encoding::Brotli);
        assert!(brotli.len() < 21 * 50);
        assert_ne!(asset.etag(Encoding::Brotli), asset.etag(Encoding::Gzip));
        assert!(asset.is_current(&asset.etag(Encoding::Gzip)));
        assert!(asset.is_current(&format!("W/{}", asset.etag(Encoding::Identity))));
        assert!(!asset.is_current("\"something-else\""));
    }
}
