//! Listening: full streams and downloads for those entitled, public 30-second previews, signed
//! stream URLs, the per-account stream cap, validators and conditional requests, and HTTP
//! ranges (RFC 9110), every byte checked against the file on disk.

use std::time::{Duration, Instant, SystemTime};

use chinook::media::encode::{self, Rendition};
use chinook::media::renditions::Master;
use chinook::media::synth::Synth;
use chinook::media::{self, AudioFile};
use chinook::store::accounts;
use chinook::streaming::tracks::{self, Cut};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";
const STAFF: &str = "jane@chinookcorp.com";
/// "For Those About To Rock (We Salute You)", 5:43 long, on AC/DC's album of that name.
const TRACK: i64 = 1;
/// What streams and previews are served as.
const MP3: &str = "audio/mpeg";

/// The app with a stream cap high enough that back-to-back requests in one test never meet
/// it; the cap itself has a test of its own.
async fn spawn() -> TestApp {
    spawn_songs_of(8).await
}

/// As `spawn`, with generated songs up to `secs` long.
async fn spawn_songs_of(secs: u64) -> TestApp {
    TestApp::spawn_with(|config| {
        config.max_streams_per_account = 100;
        config.audio_max_secs = secs;
    })
    .await
}

/// A song of `milliseconds` as a FLAC master.
pub(crate) fn flac_song(track: i64, milliseconds: u64) -> Vec<u8> {
    let mut song = Synth::new(track, milliseconds);
    encode::render(&mut song, &[Rendition::Flac])
        .unwrap()
        .pop()
        .unwrap()
        .1
}

/// Gives `track` a stored master: a FLAC song of `milliseconds`, as an upload would.
pub(crate) async fn give_audio(app: &TestApp, track: i64, milliseconds: u64) -> AudioFile {
    let file = app
        .state
        .media
        .write(
            track,
            flac_song(track + 1000, milliseconds),
            "audio/flac",
            "flac",
        )
        .await
        .unwrap();
    app.state.media.save(&app.state.db, &file).await.unwrap();
    file
}

/// Replaces what `track` serves as `rendition` with `content`, under its stored master's
/// name: renditions are plain files, whatever they hold.
pub(crate) async fn place_rendition(
    app: &TestApp,
    track: i64,
    rendition: Rendition,
    content: &[u8],
) {
    let file = media::audio_of(&app.state.db, track)
        .await
        .unwrap()
        .expect("the track has a stored master");
    let relative = Master::Stored(file).relative_path(rendition);
    let path = app.state.media.path_of(&relative).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// What a track serves as `cut`: its validators, and the bytes of its file.
pub(crate) struct Served {
    pub etag: String,
    pub last_modified: SystemTime,
}

async fn rendition_of(app: &TestApp, track: i64, cut: Cut) -> (Served, Vec<u8>) {
    let index = app.state.catalog().unwrap();
    let source = tracks::source(&app.state.db, &app.state.media, index, track, cut)
        .await
        .unwrap();
    let bytes = std::fs::read(&source.path).unwrap();
    assert_eq!(bytes.len() as u64, source.file_len);
    let served = Served {
        etag: source.etag,
        last_modified: source.last_modified,
    };
    (served, bytes)
}

/// The stream rendition of a track.
async fn audio_file(app: &TestApp, track: i64) -> (Served, Vec<u8>) {
    rendition_of(app, track, Cut::Stream).await
}

async fn first_email(app: &TestApp, sql: &str, track: i64) -> String {
    sqlx::query_scalar(sql)
        .bind(track)
        .fetch_optional(app.state.db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no account for track {track}"))
}

/// A customer with an invoice line for `track`.
pub(crate) async fn owner_of(app: &TestApp, track: i64) -> String {
    first_email(
        app,
        "SELECT a.email FROM account a JOIN invoice i ON i.customer_id = a.customer_id \
         JOIN invoice_line l ON l.invoice_id = i.invoice_id \
         WHERE l.track_id = $1 AND a.role = 'customer' ORDER BY a.email",
        track,
    )
    .await
}

/// A customer who never bought `track`.
async fn non_owner_of(app: &TestApp, track: i64) -> String {
    first_email(
        app,
        "SELECT a.email FROM account a WHERE a.role = 'customer' AND a.customer_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM invoice i JOIN invoice_line l ON l.invoice_id = i.invoice_id \
           WHERE i.customer_id = a.customer_id AND l.track_id = $1) ORDER BY a.email",
        track,
    )
    .await
}

async fn account_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT account_id FROM account WHERE email = $1")
        .bind(email)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap()
}

fn request(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
    let request = app.client.request(method, app.url(path));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("the request is answered")
}

fn text(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(&name)
        .map(|v| v.to_str().expect("an ASCII header").to_string())
}

fn must(headers: &HeaderMap, name: HeaderName) -> String {
    text(headers, name.clone()).unwrap_or_else(|| panic!("no {name} header"))
}

fn content_length(headers: &HeaderMap) -> u64 {
    must(headers, header::CONTENT_LENGTH).parse().unwrap()
}

/// A short, printable description of a header value for failure messages.
fn shown(value: &[u8]) -> String {
    let text = format!("{:?}", String::from_utf8_lossy(value));
    if text.len() > 100 {
        format!("{}… ({} bytes)", &text[..100], value.len())
    } else {
        text
    }
}

/// What a response to a Range request gave.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// 200 with the whole content.
    Whole,
    /// 206: one range, or several as multipart/byteranges, as (first, last) byte.
    Ranges(Vec<(u64, u64)>),
    /// 416.
    Unsatisfiable,
}

use Answer::{Unsatisfiable, Whole};

fn ranges(list: &[(u64, u64)]) -> Answer {
    Answer::Ranges(list.to_vec())
}

/// `bytes a-b/total` → (a, b), checked to lie within the content.
fn content_range(value: &str, total: u64, what: &str) -> (u64, u64) {
    let parsed = value
        .strip_prefix("bytes ")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(span, len)| {
            let (a, b) = span.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?, len.parse::<u64>().ok()?))
        });
    let Some((a, b, len)) = parsed else {
        panic!("{what}: Content-Range {value:?} is not bytes a-b/len");
    };
    assert_eq!(len, total, "{what}: Content-Range {value:?}");
    assert!(a <= b && b < total, "{what}: Content-Range {value:?}");
    (a, b)
}

struct Part {
    content_type: Option<String>,
    range: (u64, u64),
    data: Vec<u8>,
}

/// Reads a multipart/byteranges body strictly (RFC 2046): no preamble, each part's headers,
/// exactly the bytes its Content-Range names, and the closing delimiter as the last bytes.
fn parse_multipart(body: &[u8], boundary: &str, total: u64, what: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let mut rest = body;
    let mut parts: Vec<Part> = Vec::new();
    loop {
        let lead: &[u8] = if parts.is_empty() { b"" } else { b"\r\n" };
        rest = rest
            .strip_prefix(lead)
            .and_then(|r| r.strip_prefix(delimiter.as_bytes()))
            .unwrap_or_else(|| panic!("{what}: no delimiter before part {}", parts.len() + 1));
        if rest == b"--\r\n" {
            return parts;
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .unwrap_or_else(|| panic!("{what}: a delimiter not followed by CRLF"));
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{what}: a part's headers never end"));
        let head = std::str::from_utf8(&rest[..end]).expect("ASCII part headers");
        rest = &rest[end + 4..];
        let mut content_type = None;
        let mut range = None;
        for line in head.split("\r\n") {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{what}: part header line {line:?}"));
            match name.to_ascii_lowercase().as_str() {
                "content-type" => content_type = Some(value.trim().to_string()),
                "content-range" => range = Some(content_range(value.trim(), total, what)),
                other => panic!("{what}: unexpected part header {other}"),
            }
        }
        let (a, b) = range.unwrap_or_else(|| panic!("{what}: a part without Content-Range"));
        let n = (b - a + 1) as usize;
        assert!(rest.len() >= n, "{what}: part {a}-{b} is cut short");
        parts.push(Part {
            content_type,
            range: (a, b),
            data: rest[..n].to_vec(),
        });
        rest = &rest[n..];
    }
}

/// Checks any answer to a Range request against `content` (the whole of what is served)
/// exactly, and says what it was.
async fn answer(response: Response, content: &[u8], etag: &str, what: &str) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("the body arrives");
    let total = content.len() as u64;
    assert!(
        matches!(status, 200 | 206 | 416),
        "{what}: status {status}, body {}",
        shown(&body)
    );
    assert_eq!(
        content_length(&headers),
        body.len() as u64,
        "{what}: Content-Length"
    );
    if status == 416 {
        assert_eq!(
            text(&headers, header::CONTENT_RANGE).as_deref(),
            Some(format!("bytes */{total}").as_str()),
            "{what}"
        );
        assert_eq!(
            must(&headers, header::CONTENT_TYPE),
            "application/problem+json",
            "{what}"
        );
        let problem: Value = serde_json::from_slice(&body).expect("a JSON problem");
        assert_eq!(problem["status"], 416, "{what}");
        return Unsatisfiable;
    }
    assert_eq!(must(&headers, header::ETAG), etag, "{what}");
    assert_eq!(must(&headers, header::ACCEPT_RANGES), "bytes", "{what}");
    let content_type = must(&headers, header::CONTENT_TYPE);
    if status == 200 {
        assert_eq!(text(&headers, header::CONTENT_RANGE), None, "{what}");
        assert_eq!(content_type, MP3, "{what}");
        assert!(body[..] == content[..], "{what}: the body is not the file");
        return Whole;
    }
    if let Some(boundary) = content_type.strip_prefix("multipart/byteranges; boundary=") {
        let boundary = boundary.trim_matches('"');
        assert_eq!(text(&headers, header::CONTENT_RANGE), None, "{what}");
        let parts = parse_multipart(&body, boundary, total, what);
        assert!(
            (2..=16).contains(&parts.len()),
            "{what}: {} parts",
            parts.len()
        );
        for part in &parts {
            let (a, b) = part.range;
            assert_eq!(part.content_type.as_deref(), Some(MP3), "{what}");
            assert!(
                part.data[..] == content[a as usize..=b as usize],
                "{what}: part {a}-{b} is not those bytes of the file"
            );
        }
        let spans: Vec<(u64, u64)> = parts.iter().map(|p| p.range).collect();
        assert!(
            spans.windows(2).all(|w| w[0].1 + 1 < w[1].0),
            "{what}: parts {spans:?} are not sorted, disjoint and apart"
        );
        return Answer::Ranges(spans);
    }
    assert_eq!(content_type, MP3, "{what}");
    let (a, b) = content_range(&must(&headers, header::CONTENT_RANGE), total, what);
    assert!(
        body[..] == content[a as usize..=b as usize],
        "{what}: the body is not bytes {a}-{b} of the file"
    );
    Answer::Ranges(vec![(a, b)])
}

/// Sends every case as a Range header to `path` and checks both the answer and its bytes.
async fn check_corpus(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content: &[u8],
    etag: &str,
    cases: &[(Vec<u8>, Answer)],
) {
    for (value, expected) in cases {
        let what = format!("GET {path} with Range: {}", shown(value));
        let response = send(
            request(app, Method::GET, path, token)
                .header(header::RANGE, HeaderValue::from_bytes(value).unwrap()),
        )
        .await;
        let got = answer(response, content, etag, &what).await;
        assert_eq!(&got, expected, "{what}");
    }
}

fn case(value: impl Into<String>, expected: Answer) -> (Vec<u8>, Answer) {
    (value.into().into_bytes(), expected)
}

/// `bytes=` and the specs joined by commas.
fn bytes<S: AsRef<str>>(specs: impl IntoIterator<Item = S>) -> String {
    let specs: Vec<String> = specs.into_iter().map(|s| s.as_ref().to_string()).collect();
    format!("bytes={}", specs.join(","))
}

/// `count` one-byte ranges two bytes apart: 0-0,2-2,4-4,...
fn spaced(count: u64) -> Vec<String> {
    (0..count).map(|i| format!("{0}-{0}", i * 2)).collect()
}

/// Range headers for content of `len` bytes (at least 40,000), with what each must get.
fn corpus(len: u64) -> Vec<(Vec<u8>, Answer)> {
    let last = len - 1;
    let half = len / 2;
    let third = len / 3;
    let max = u64::MAX;
    let mut sixteen_with_empties = spaced(16);
    sixteen_with_empties.extend(std::iter::repeat_n(String::new(), 8));
    let mut sixteen_then_unsatisfiable = spaced(16);
    sixteen_then_unsatisfiable.push(format!("{len}-"));
    let mut sixteen_then_invalid = spaced(16);
    sixteen_then_invalid.push("x".into());
    let mut thousand_then_invalid = vec!["0-0".to_string(); 1000];
    thousand_then_invalid.push("x".into());
    let spread: Vec<(u64, u64)> = (0..16)
        .map(|i| (i * (len / 16), i * (len / 16) + 99))
        .collect();
    let mut adjacent_shuffled: Vec<String> = (0..16)
        .map(|i| format!("{}-{}", i * 1000, i * 1000 + 999))
        .collect();
    adjacent_shuffled.reverse();
    adjacent_shuffled.swap(3, 11);
    let mut cases = vec![
        // Single, open and suffix ranges.
        case("bytes=0-0", ranges(&[(0, 0)])),
        case("bytes=0-99", ranges(&[(0, 99)])),
        case("bytes=100-199", ranges(&[(100, 199)])),
        case("bytes=43-44", ranges(&[(43, 44)])),
        case("bytes=0-", ranges(&[(0, last)])),
        case("bytes=1-", ranges(&[(1, last)])),
        case("bytes=1000-", ranges(&[(1000, last)])),
        case(format!("bytes=0-{}", last - 1), ranges(&[(0, last - 1)])),
        case("bytes=-1", ranges(&[(last, last)])),
        case("bytes=-500", ranges(&[(len - 500, last)])),
        case(format!("bytes=-{}", len - 1), ranges(&[(1, last)])),
        case("BYTES=-1", ranges(&[(last, last)])),
        // Suffixes as long as the file or longer take all of it.
        case(format!("bytes=-{len}"), ranges(&[(0, last)])),
        case(format!("bytes=-{}", len + 1), ranges(&[(0, last)])),
        case(format!("bytes=-{max}"), ranges(&[(0, last)])),
        // Edges.
        case(format!("bytes={last}-{last}"), ranges(&[(last, last)])),
        case(format!("bytes={last}-"), ranges(&[(last, last)])),
        case(format!("bytes={len}-"), Unsatisfiable),
        case(format!("bytes={len}-{len}"), Unsatisfiable),
        case(format!("bytes={}-{}", len + 1, len + 10), Unsatisfiable),
        case(format!("bytes={max}-"), Unsatisfiable),
        case(format!("bytes={max}-{max}"), Unsatisfiable),
        // An end past the file is clamped to it.
        case(format!("bytes=0-{len}"), ranges(&[(0, last)])),
        case(format!("bytes=0-{max}"), ranges(&[(0, last)])),
        case(
            format!("bytes={}-{}", last - 1, len + 100),
            ranges(&[(last - 1, last)]),
        ),
        case("bytes=000-009", ranges(&[(0, 9)])),
        case(
            "bytes=00000000000000000000000000000001-2",
            ranges(&[(1, 2)]),
        ),
        // A zero suffix is never satisfiable.
        case("bytes=-0", Unsatisfiable),
        case("bytes=-000", Unsatisfiable),
        case("bytes=-0,-0", Unsatisfiable),
        case("bytes=0-0,-0", ranges(&[(0, 0)])),
        case("bytes=-0,0-0", ranges(&[(0, 0)])),
        // Numbers past u64 and signs make the header invalid: the whole file.
        case("bytes=18446744073709551616-", Whole),
        case("bytes=0-18446744073709551616", Whole),
        case("bytes=-18446744073709551616", Whole),
        case("bytes=99999999999999999999999-", Whole),
        case("bytes=0-99999999999999999999999", Whole),
        case("bytes=0-1,99999999999999999999999-", Whole),
        case("bytes=-1-2", Whole),
        case("bytes=--1", Whole),
        case("bytes=-1-", Whole),
        case("bytes=1--2", Whole),
        case("bytes=+1-2", Whole),
        case("bytes=1-+2", Whole),
        case("bytes=-+2", Whole),
        case("bytes=1-2-3", Whole),
        case("bytes=--", Whole),
        case("bytes=-", Whole),
        case("bytes=5", Whole),
        // Reversed ranges are invalid, even beyond the file.
        case("bytes=5-4", Whole),
        case("bytes=100-0", Whole),
        case("bytes=0-1,5-4", Whole),
        case(format!("bytes={}-{}", len + 10, len + 5), Whole),
        case(format!("bytes={len}-,5"), Whole),
        // Not digits.
        case("bytes=0x10-0x20", Whole),
        case("bytes=1.5-2", Whole),
        case("bytes=a-b", Whole),
        case("bytes=1e3-", Whole),
        case("bytes=0-1;2-3", Whole),
        case("bytes=0-1 2-3", Whole),
        case("bytes=0-1,abc", Whole),
        case("bytes=0-\u{ff11}", Whole),
        case("bytes=\u{663}-", Whole),
        // Whitespace around commas and the value, and nowhere else.
        case("bytes=0-1, 3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1 ,3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1 , 3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1,\t3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1\t,3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1,\t 3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1, ,3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=, 0-1", ranges(&[(0, 1)])),
        case(" bytes=0-1", ranges(&[(0, 1)])),
        case("bytes=0-1 ", ranges(&[(0, 1)])),
        case("\tbytes=0-1\t", ranges(&[(0, 1)])),
        case("bytes= 0-1", Whole),
        case("bytes=\t0-1", Whole),
        case("bytes =0-1", Whole),
        case("bytes = 0-1", Whole),
        case("bytes\t=0-1", Whole),
        case("bytes=0 -1", Whole),
        case("bytes=0- 1", Whole),
        case("bytes=- 1", Whole),
        case("bytes=1 0-20", Whole),
        case("bytes=0-1,\u{a0}3-4", Whole),
        // Units: bytes in any case; anything else is ignored.
        case("BYTES=0-1", ranges(&[(0, 1)])),
        case("Bytes=0-1", ranges(&[(0, 1)])),
        case("bYtEs=0-1", ranges(&[(0, 1)])),
        case("", Whole),
        case("bytes", Whole),
        case("bytes=", Whole),
        case("items=0-1", Whole),
        case("byte=0-1", Whole),
        case("bytess=0-1", Whole),
        case("bits=0-1", Whole),
        case("none", Whole),
        case("=0-1", Whole),
        case("0-1", Whole),
        case("bytes:0-1", Whole),
        case("bytes==0-1", Whole),
        case("bytes=0-1=", Whole),
        case("bytes 0-1", Whole),
        case("\u{ff42}ytes=0-1", Whole),
        case(format!("items={len}-"), Whole),
        // Empty list elements are skipped; a list of nothing is invalid.
        case("bytes=,", Whole),
        case("bytes=,,,", Whole),
        case("bytes=, ,", Whole),
        case("bytes=0-1,,3-4", ranges(&[(0, 1), (3, 4)])),
        case("bytes=0-1,", ranges(&[(0, 1)])),
        case("bytes=0-1, ", ranges(&[(0, 1)])),
        case("bytes=,0-1", ranges(&[(0, 1)])),
        case("bytes=,,0-1,,", ranges(&[(0, 1)])),
        case(
            format!("bytes=0-1{}3-4", ",".repeat(40)),
            ranges(&[(0, 1), (3, 4)]),
        ),
        case(format!("bytes={}0-0", ",".repeat(1000)), ranges(&[(0, 0)])),
        // Unsatisfiable ranges among satisfiable ones are dropped.
        case(
            format!("bytes=0-1,{}-{}", len + 5, len + 6),
            ranges(&[(0, 1)]),
        ),
        case(format!("bytes={}-,0-1", len + 5), ranges(&[(0, 1)])),
        case(format!("bytes={len}-,-0,0-0"), ranges(&[(0, 0)])),
        case(format!("bytes=0-,{}-", len + 1), ranges(&[(0, last)])),
        case(format!("bytes={len}-,{}-", len + 1), Unsatisfiable),
        // Several ranges: multipart, sorted.
        case("bytes=0-0,-1", ranges(&[(0, 0), (last, last)])),
        case(
            format!("bytes=0-0,{last}-{last}"),
            ranges(&[(0, 0), (last, last)]),
        ),
        case("bytes=0-43,-100", ranges(&[(0, 43), (len - 100, last)])),
        case(
            "bytes=100-199,300-399,500-599",
            ranges(&[(100, 199), (300, 399), (500, 599)]),
        ),
        case(
            "bytes=500-599,100-199,300-399",
            ranges(&[(100, 199), (300, 399), (500, 599)]),
        ),
        case("bytes=1-1,3-3,5-5", ranges(&[(1, 1), (3, 3), (5, 5)])),
        // Overlapping and adjacent ranges are merged: into one, a plain 206.
        case("bytes=0-1,2-3", ranges(&[(0, 3)])),
        case("bytes=2-3,0-1", ranges(&[(0, 3)])),
        case("bytes=0-4,3-6", ranges(&[(0, 6)])),
        case("bytes=0-2,1-1", ranges(&[(0, 2)])),
        case("bytes=0-0,0-0", ranges(&[(0, 0)])),
        case("bytes=5-5,5-5,5-5", ranges(&[(5, 5)])),
        case("bytes=-1,-1", ranges(&[(last, last)])),
        case("bytes=-5,-3", ranges(&[(len - 5, last)])),
        case(format!("bytes=-1,{last}-{last}"), ranges(&[(last, last)])),
        case(format!("bytes={last}-,-1"), ranges(&[(last, last)])),
        case(
            format!("bytes=0-{},{half}-", half - 1),
            ranges(&[(0, last)]),
        ),
        case(
            format!("bytes=-{},0-{}", len - half, half - 1),
            ranges(&[(0, last)]),
        ),
        case("bytes=8-9,0-1,4-5", ranges(&[(0, 1), (4, 5), (8, 9)])),
        case("bytes=6-7,2-3,4-5", ranges(&[(2, 7)])),
        case("bytes=0-1,5-6,2-3", ranges(&[(0, 3), (5, 6)])),
        case("bytes=3-3,1-1", ranges(&[(1, 1), (3, 3)])),
        case(
            "bytes=100-100,101-101,103-103",
            ranges(&[(100, 101), (103, 103)]),
        ),
        case(
            "bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9",
            ranges(&[(0, 9)]),
        ),
        case(
            "bytes=9-9,7-7,5-5,3-3,1-1",
            ranges(&[(1, 1), (3, 3), (5, 5), (7, 7), (9, 9)]),
        ),
        case("bytes=8-9,0-1,2-3,6-7,4-5", ranges(&[(0, 9)])),
        case(bytes(&adjacent_shuffled), ranges(&[(0, 15_999)])),
        // Overlaps that add up to more than the file get the whole file once.
        case("bytes=0-,0-", Whole),
        case(format!("bytes=0-{last},0-0"), Whole),
        case("bytes=0-,-1", Whole),
        case(format!("bytes=-{len},-1"), Whole),
        case(format!("bytes=-{},0-{half}", half + 10), Whole),
        case(format!("bytes=0-{},{third}-", 2 * third), Whole),
        case(format!("bytes=0-{half},{}-", half - 10), Whole),
        // At most 16 ranges, counted as requested, before any is parsed.
        case(
            bytes(spaced(16)),
            Answer::Ranges((0..16).map(|i| (i * 2, i * 2)).collect()),
        ),
        case(bytes(spaced(17)), Whole),
        case(
            bytes(sixteen_with_empties),
            Answer::Ranges((0..16).map(|i| (i * 2, i * 2)).collect()),
        ),
        case(bytes(sixteen_then_unsatisfiable), Whole),
        case(bytes(sixteen_then_invalid), Whole),
        case(bytes(vec![format!("{len}-"); 16]), Unsatisfiable),
        case(bytes(vec![format!("{len}-"); 17]), Whole),
        case(bytes(vec!["0-0"; 16]), ranges(&[(0, 0)])),
        case(bytes(vec!["0-0"; 17]), Whole),
        case(
            bytes(spread.iter().map(|(a, b)| format!("{a}-{b}"))),
            Answer::Ranges(spread.clone()),
        ),
        // A thousand ranges, overlapping or not, are declined.
        case(bytes(vec!["0-"; 1000]), Whole),
        case(bytes((0..1000).map(|i| format!("{i}-{}", i + 1))), Whole),
        case(bytes(vec!["-1"; 1000]), Whole),
        case(bytes(vec!["0-0"; 1000]), Whole),
        case(bytes(thousand_then_invalid), Whole),
    ];
    // Header bytes that are not UTF-8 (obs-text) make the header invalid: the whole file.
    for raw in [
        &b"bytes=0-1\xff"[..],
        b"bytes=\xff-",
        b"bytes=0-1,\xe9",
        b"\xffbytes=0-1",
        b"bytes=0-9\xe9",
        b"bytes=\xc3\xa9-",
        b"bytes=0-1,\x80\x80",
    ] {
        cases.push((raw.to_vec(), Whole));
    }
    cases
}

#[tokio::test]
async fn an_owner_streams_the_whole_file_with_its_validators() {
    let app = spawn_songs_of(20).await;
    let (file, wav) = audio_file(&app, TRACK).await;
    let probed = crate::judge::probe(&wav);
    assert_eq!(
        (probed.codec.as_str(), probed.sample_rate, probed.channels),
        ("mp3", 44_100, 2)
    );
    assert!((probed.duration - 20.0).abs() < 0.1, "{probed:?}");
    assert!((crate::judge::decoded_seconds(&wav) - 20.0).abs() < 0.1);
    let owner = app.login(&owner_of(&app, TRACK).await, DEMO_PASSWORD).await;
    for path in [
        format!("/api/v1/tracks/{TRACK}/stream"),
        format!("/stream/track/{TRACK}"),
    ] {
        let response = send(request(&app, Method::GET, &path, Some(&owner))).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(must(&headers, header::CONTENT_TYPE), MP3);
        assert_eq!(content_length(&headers), wav.len() as u64);
        assert_eq!(must(&headers, header::ETAG), file.etag);
        assert!(file.etag.starts_with('"') && file.etag.ends_with('"'));
        assert_eq!(
            must(&headers, header::LAST_MODIFIED),
            httpdate::fmt_http_date(file.last_modified)
        );
        assert_eq!(must(&headers, header::ACCEPT_RANGES), "bytes");
        assert_eq!(must(&headers, header::CACHE_CONTROL), "private, no-cache");
        assert_eq!(text(&headers, header::CONTENT_DISPOSITION), None);
        let body = response.bytes().await.unwrap();
        assert!(body[..] == wav[..], "{path}: the body is not the file");
    }
}

#[tokio::test]
async fn staff_and_admins_stream_anything_and_customers_only_what_they_bought() {
    let app = spawn_songs_of(2).await;
    let unsold: i64 = sqlx::query_scalar(
        "SELECT t.track_id FROM track t WHERE t.track_id <= 10 AND NOT EXISTS \
         (SELECT 1 FROM invoice_line l WHERE l.track_id = t.track_id) ORDER BY t.track_id",
    )
    .fetch_optional(app.state.db.reader())
    .await
    .unwrap()
    .expect("one of the first ten tracks was never sold");
    for email in [ADMIN, STAFF] {
        let token = app.login(email, DEMO_PASSWORD).await;
        for track in [TRACK, unsold] {
            for (kind, cut) in [("stream", Cut::Stream), ("download", Cut::Download)] {
                let path = format!("/api/v1/tracks/{track}/{kind}");
                let response = send(request(&app, Method::GET, &path, Some(&token))).await;
                assert_eq!(response.status(), 200, "{email} GET {path}");
                let (_, file) = rendition_of(&app, track, cut).await;
                assert!(response.bytes().await.unwrap()[..] == file[..]);
            }
        }
    }

    let owner = app.login(&owner_of(&app, TRACK).await, DEMO_PASSWORD).await;
    let stranger = app
        .login(&non_owner_of(&app, TRACK).await, DEMO_PASSWORD)
        .await;
    for kind in ["stream", "download"] {
        let path = format!("/api/v1/tracks/{TRACK}/{kind}");
        let response = send(request(&app, Method::GET, &path, Some(&owner))).await;
        assert_eq!(response.status(), 200, "the owner: {path}");
        let problem = assert_problem(
            send(request(&app, Method::GET, &path, Some(&stranger))).await,
            403,
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("buy it"),
            "{problem}"
        );
        assert_problem(send(request(&app, Method::GET, &path, None)).await, 401).await;
        assert_problem(
            send(request(&app, Method::GET, &path, Some("not-a-token"))).await,
            401,
        )
        .await;
        let head = send(request(&app, Method::HEAD, &path, Some(&stranger))).await;
        assert_eq!(head.status(), 403, "HEAD {path} by a stranger");
    }
    let alias = format!("/stream/track/{TRACK}");
    assert_problem(
        send(request(&app, Method::GET, &alias, Some(&stranger))).await,
        403,
    )
    .await;
    assert_problem(send(request(&app, Method::GET, &alias, None)).await, 401).await;
    // The owner of one track is a stranger to the next they did not buy.
    assert_problem(
        send(request(
            &app,
            Method::GET,
            &format!("/api/v1/tracks/{unsold}/stream"),
            Some(&owner),
        ))
        .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn unknown_tracks_are_not_found_and_every_real_one_has_audio() {
    let app = spawn_songs_of(2).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    for kind in ["stream", "download", "preview"] {
        // A real track nobody gave audio: its generated song.
        let path = format!("/api/v1/tracks/2/{kind}");
        let response = send(request(&app, Method::GET, &path, Some(&admin))).await;
        assert_eq!(response.status(), 200, "GET {path}");
        assert!(crate::judge::decoded_seconds(&response.bytes().await.unwrap()) > 1.9);
        for track in [999_999, 0, -1] {
            let path = format!("/api/v1/tracks/{track}/{kind}");
            assert_problem(
                send(request(&app, Method::GET, &path, Some(&admin))).await,
                404,
            )
            .await;
            let head = send(request(&app, Method::HEAD, &path, Some(&admin))).await;
            assert_eq!(head.status(), 404, "HEAD {path}");
        }
        let path = format!("/api/v1/tracks/not-a-number/{kind}");
        assert_problem(
            send(request(&app, Method::GET, &path, Some(&admin))).await,
            400,
        )
        .await;
    }
    assert_problem(
        send(request(
            &app,
            Method::GET,
            "/stream/track/999999",
            Some(&admin),
        ))
        .await,
        404,
    )
    .await;
    // A customer learns nothing about which tracks exist: the same refusal either way.
    let customer = app
        .login(&non_owner_of(&app, TRACK).await, DEMO_PASSWORD)
        .await;
    let unknown = assert_problem(
        send(request(
            &app,
            Method::GET,
            "/api/v1/tracks/999999/stream",
            Some(&customer),
        ))
        .await,
        403,
    )
    .await;
    assert!(unknown["detail"].as_str().unwrap().contains("999999"));
}

#[tokio::test]
async fn a_preview_is_an_mp3_of_the_first_thirty_seconds_for_anyone() {
    let app = spawn_songs_of(40).await;
    let (stream, whole) = audio_file(&app, TRACK).await;
    let (clip, expected) = rendition_of(&app, TRACK, Cut::Preview).await;
    assert!((crate::judge::decoded_seconds(&whole) - 40.0).abs() < 0.1);
    let probed = crate::judge::probe(&expected);
    assert_eq!((probed.codec.as_str(), probed.channels), ("mp3", 2));
    assert!((probed.duration - 30.0).abs() < 0.1, "{probed:?}");
    assert!((crate::judge::decoded_seconds(&expected) - 30.0).abs() < 0.1);
    assert_ne!(clip.etag, stream.etag, "a representation of its own");
    let path = format!("/api/v1/tracks/{TRACK}/preview");
    let stranger = app
        .login(&non_owner_of(&app, TRACK).await, DEMO_PASSWORD)
        .await;
    for token in [None, Some(stranger.as_str())] {
        let response = send(request(&app, Method::GET, &path, token)).await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(content_length(&headers), expected.len() as u64);
        assert_eq!(must(&headers, header::CONTENT_TYPE), MP3);
        assert_eq!(must(&headers, header::ETAG), clip.etag);
        assert_eq!(
            must(&headers, header::CACHE_CONTROL),
            "public, max-age=86400"
        );
        assert!(response.bytes().await.unwrap()[..] == expected[..]);
    }

    // A preview takes no query: a signed-URL parameter is a mistake, not ignored.
    assert_problem(
        send(request(
            &app,
            Method::GET,
            &format!("{path}?account=1"),
            None,
        ))
        .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn a_stored_master_shorter_than_thirty_seconds_previews_whole_and_streams_its_length() {
    let app = spawn_songs_of(60).await;
    let track = 3;
    give_audio(&app, track, 12_000).await;
    for kind in ["preview", "stream", "download", "download?format=mp3"] {
        let path = format!("/api/v1/tracks/{track}/{kind}");
        let response = send(request(
            &app,
            Method::GET,
            &path,
            Some(&app.login(STAFF, DEMO_PASSWORD).await),
        ))
        .await;
        assert_eq!(response.status(), 200, "{path}");
        let body = response.bytes().await.unwrap();
        let seconds = crate::judge::decoded_seconds(&body);
        assert!((seconds - 12.0).abs() < 0.1, "{path}: {seconds} s");
    }
    let renders = app.state.media.cache().renders();
    assert_eq!(
        renders, 4,
        "each rendition of the stored master was made once"
    );
}

#[tokio::test]
async fn a_download_is_flac_or_mp3_named_artist_album_number_and_track() {
    let app = spawn_songs_of(3).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let name = |track: i64, extension: &str| {
        match track {
        TRACK => format!(
            "attachment; filename=\"AC_DC - For Those About To Rock We Salute You - 01 - \
             For Those About To Rock (We Salute You).{extension}\"; filename*=UTF-8''AC_DC%20-%20For\
             %20Those%20About%20To%20Rock%20We%20Salute%20You%20-%2001%20-%20For%20Those%20\
             About%20To%20Rock%20%28We%20Salute%20You%29.{extension}"
        ),
        _ => format!(
            "attachment; filename=\"Ant_nio Carlos Jobim - Warner 25 Anos - 04 - Por Causa \
             De Voc_.{extension}\"; filename*=UTF-8''Ant%C3%B4nio%20Carlos%20Jobim%20-%20Warner%2025\
             %20Anos%20-%2004%20-%20Por%20Causa%20De%20Voc%C3%AA.{extension}"
        ),
    }
    };
    let formats = [
        ("", Cut::Download, "flac", "audio/flac", "flac"),
        ("?format=flac", Cut::Download, "flac", "audio/flac", "flac"),
        ("?format=mp3", Cut::DownloadMp3, "mp3", MP3, "mp3"),
    ];
    for track in [TRACK, 66] {
        for (query, cut, extension, content_type, codec) in formats {
            let (file, bytes) = rendition_of(&app, track, cut).await;
            let path = format!("/api/v1/tracks/{track}/download{query}");
            let response = send(request(&app, Method::GET, &path, Some(&admin))).await;
            assert_eq!(response.status(), 200, "{path}");
            let headers = response.headers().clone();
            let disposition = name(track, extension);
            assert_eq!(must(&headers, header::CONTENT_DISPOSITION), disposition);
            assert_eq!(must(&headers, header::CONTENT_TYPE), content_type);
            assert_eq!(must(&headers, header::ETAG), file.etag);
            assert_eq!(must(&headers, header::CACHE_CONTROL), "private, no-cache");
            let body = response.bytes().await.unwrap();
            assert!(body[..] == bytes[..]);
            let probed = crate::judge::probe(&body);
            assert_eq!(probed.codec, codec, "{path}");
            assert_eq!((probed.sample_rate, probed.channels), (44_100, 2), "{path}");
            assert!((crate::judge::decoded_seconds(&body) - 3.0).abs() < 0.1);

            // A broken download resumes with a range, still as an attachment.
            let response = send(
                request(&app, Method::GET, &path, Some(&admin))
                    .header(header::RANGE, "bytes=1000-"),
            )
            .await;
            assert_eq!(response.status(), 206);
            assert_eq!(
                must(response.headers(), header::CONTENT_DISPOSITION),
                disposition
            );
            assert_eq!(
                must(response.headers(), header::CONTENT_RANGE),
                format!("bytes 1000-{}/{}", bytes.len() - 1, bytes.len())
            );
            assert!(response.bytes().await.unwrap()[..] == bytes[1000..]);
        }
    }
    for bad in ["ogg", "FLAC", "", "wav"] {
        let path = format!("/api/v1/tracks/{TRACK}/download?format={bad}");
        let problem = assert_problem(
            send(request(&app, Method::GET, &path, Some(&admin))).await,
            400,
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("flac or mp3"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn head_answers_with_the_headers_of_get_and_no_body() {
    let app = spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let (_, wav) = audio_file(&app, TRACK).await;
    let len = wav.len() as u64;
    let download = rendition_of(&app, TRACK, Cut::Download).await.1.len() as u64;
    let clip = rendition_of(&app, TRACK, Cut::Preview).await.1.len() as u64;
    let compared = [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::ACCEPT_RANGES,
        header::CACHE_CONTROL,
        header::CONTENT_DISPOSITION,
    ];
    let cases: Vec<(&str, Option<&str>, u16, u64)> = vec![
        ("stream", None, 200, len),
        ("stream", Some("bytes=0-99"), 206, 100),
        ("stream", Some("bytes=-1"), 206, 1),
        ("stream", Some("bytes=0-0,-1"), 206, 0),
        ("stream", Some("bytes=x"), 200, len),
        ("download", None, 200, download),
        ("download", Some("bytes=100-"), 206, download - 100),
        ("preview", None, 200, clip),
        ("preview", Some("bytes=0-43"), 206, 44),
    ];
    for (kind, range, status, length) in cases {
        let path = format!("/api/v1/tracks/{TRACK}/{kind}");
        let build = |method: Method| {
            let builder = request(&app, method, &path, Some(&admin));
            match range {
                Some(range) => builder.header(header::RANGE, range),
                None => builder,
            }
        };
        let get = send(build(Method::GET)).await;
        let head = send(build(Method::HEAD)).await;
        let what = format!("HEAD {path} with {range:?}");
        assert_eq!(get.status(), status, "{what}");
        assert_eq!(head.status(), status, "{what}");
        for name in &compared {
            assert_eq!(
                text(head.headers(), name.clone()),
                text(get.headers(), name.clone()),
                "{what}: {name}"
            );
        }
        let head_type = must(head.headers(), header::CONTENT_TYPE);
        let get_type = must(get.headers(), header::CONTENT_TYPE);
        if length == 0 {
            // Several ranges: the boundary is new for every response, its length is not.
            assert!(head_type.starts_with("multipart/byteranges; boundary="));
            assert_eq!(head_type.len(), get_type.len(), "{what}");
        } else {
            assert_eq!(head_type, get_type, "{what}");
            assert_eq!(content_length(head.headers()), length, "{what}");
        }
        let declared = content_length(get.headers());
        assert!(head.bytes().await.unwrap().is_empty(), "{what}: a body");
        assert_eq!(get.bytes().await.unwrap().len() as u64, declared, "{what}");
    }
    let head = send(
        request(
            &app,
            Method::HEAD,
            &format!("/api/v1/tracks/{TRACK}/stream"),
            Some(&admin),
        )
        .header(header::RANGE, format!("bytes={len}-")),
    )
    .await;
    assert_eq!(head.status(), 416);
    assert_eq!(
        must(head.headers(), header::CONTENT_RANGE),
        format!("bytes */{len}")
    );
    assert!(head.bytes().await.unwrap().is_empty());
    let anonymous = send(request(
        &app,
        Method::HEAD,
        &format!("/api/v1/tracks/{TRACK}/stream"),
        None,
    ))
    .await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_current_copy_is_answered_304_by_etag_or_date() {
    let app = spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let (file, wav) = audio_file(&app, TRACK).await;
    let (clip, _) = rendition_of(&app, TRACK, Cut::Preview).await;
    let path = format!("/api/v1/tracks/{TRACK}/stream");
    let first = send(request(&app, Method::GET, &path, Some(&admin))).await;
    let last_modified = must(first.headers(), header::LAST_MODIFIED);
    drop(first);
    let modified = httpdate::parse_http_date(&last_modified).unwrap();
    let date = |time: SystemTime| httpdate::fmt_http_date(time);
    let hour = Duration::from_secs(3600);
    let bare = file.etag.trim_matches('"').to_string();
    let cases: Vec<(&str, String, u16)> = vec![
        ("If-None-Match", file.etag.clone(), 304),
        ("If-None-Match", "*".into(), 304),
        ("If-None-Match", format!("W/{}", file.etag), 304),
        ("If-None-Match", format!("\"other\", {}", file.etag), 304),
        ("If-None-Match", format!("\"a\",{},\"b\"", file.etag), 304),
        ("If-None-Match", "\"other\"".into(), 200),
        ("If-None-Match", "W/\"other\"".into(), 200),
        ("If-None-Match", clip.etag.clone(), 200),
        ("If-None-Match", format!("\"{}\"", &bare[1..]), 200),
        ("If-Modified-Since", last_modified.clone(), 304),
        ("If-Modified-Since", date(modified + hour), 304),
        ("If-Modified-Since", date(modified - hour), 200),
        ("If-Modified-Since", "not a date".into(), 200),
    ];
    for (name, value, status) in cases {
        let response =
            send(request(&app, Method::GET, &path, Some(&admin)).header(name, value.as_str()))
                .await;
        let what = format!("{name}: {value}");
        assert_eq!(response.status(), status, "{what}");
        assert_eq!(must(response.headers(), header::ETAG), file.etag, "{what}");
        let body = response.bytes().await.unwrap();
        if status == 304 {
            assert!(body.is_empty(), "{what}");
        } else {
            assert!(body[..] == wav[..], "{what}");
        }
    }
    // If-None-Match decides alone when present: a matching date does not make a mismatch 304.
    let response = send(
        request(&app, Method::GET, &path, Some(&admin))
            .header(header::IF_NONE_MATCH, "\"other\"")
            .header(header::IF_MODIFIED_SINCE, last_modified.as_str()),
    )
    .await;
    assert_eq!(response.status(), 200);
    // A 304 is answered before any range.
    let response = send(
        request(&app, Method::GET, &path, Some(&admin))
            .header(header::IF_NONE_MATCH, file.etag.as_str())
            .header(header::RANGE, "bytes=0-9"),
    )
    .await;
    assert_eq!(response.status(), 304);

    // The preview has validators of its own.
    let preview = format!("/api/v1/tracks/{TRACK}/preview");
    for (etag, status) in [(clip.etag.as_str(), 304), (file.etag.as_str(), 200)] {
        let response =
            send(request(&app, Method::GET, &preview, None).header(header::IF_NONE_MATCH, etag))
                .await;
        assert_eq!(response.status(), status, "preview If-None-Match: {etag}");
    }
}

#[tokio::test]
async fn if_range_honours_a_range_only_for_the_current_representation() {
    let app = spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let (file, wav) = audio_file(&app, TRACK).await;
    let path = format!("/api/v1/tracks/{TRACK}/stream");
    let head = send(request(&app, Method::HEAD, &path, Some(&admin))).await;
    let last_modified = must(head.headers(), header::LAST_MODIFIED);
    let modified = httpdate::parse_http_date(&last_modified).unwrap();
    let cases: Vec<(String, Answer)> = vec![
        (file.etag.clone(), ranges(&[(10, 19)])),
        (last_modified.clone(), ranges(&[(10, 19)])),
        ("\"other\"".into(), Whole),
        (format!("W/{}", file.etag), Whole),
        (
            httpdate::fmt_http_date(modified + Duration::from_secs(1)),
            Whole,
        ),
        (
            httpdate::fmt_http_date(modified - Duration::from_secs(1)),
            Whole,
        ),
        ("not a validator".into(), Whole),
    ];
    for (condition, expected) in cases {
        let what = format!("If-Range: {condition}");
        let response = send(
            request(&app, Method::GET, &path, Some(&admin))
                .header(header::RANGE, "bytes=10-19")
                .header(header::IF_RANGE, condition.as_str()),
        )
        .await;
        assert_eq!(
            answer(response, &wav, &file.etag, &what).await,
            expected,
            "{what}"
        );
    }
    // The preview's current tag is its own; the file's is another representation.
    let preview = format!("/api/v1/tracks/{TRACK}/preview");
    let (preview_file, clip) = rendition_of(&app, TRACK, Cut::Preview).await;
    let preview_etag = preview_file.etag;
    for (condition, expected) in [
        (preview_etag.as_str(), ranges(&[(0, 43)])),
        (file.etag.as_str(), Whole),
    ] {
        let what = format!("preview If-Range: {condition}");
        let response = send(
            request(&app, Method::GET, &preview, None)
                .header(header::RANGE, "bytes=0-43")
                .header(header::IF_RANGE, condition),
        )
        .await;
        assert_eq!(
            answer(response, &clip, &preview_etag, &what).await,
            expected,
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_replaced_file_has_a_new_etag_and_old_validators_get_the_new_bytes_whole() {
    let app = spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let (old, _) = audio_file(&app, TRACK).await;
    give_audio(&app, TRACK, 7_000).await;
    let (new, wav) = audio_file(&app, TRACK).await;
    assert_ne!(old.etag, new.etag);
    let path = format!("/api/v1/tracks/{TRACK}/stream");
    let response = send(
        request(&app, Method::GET, &path, Some(&admin))
            .header(header::IF_NONE_MATCH, old.etag.as_str()),
    )
    .await;
    assert_eq!(
        answer(response, &wav, &new.etag, "If-None-Match: the old tag").await,
        Whole
    );
    let response = send(
        request(&app, Method::GET, &path, Some(&admin))
            .header(header::RANGE, "bytes=100-199")
            .header(header::IF_RANGE, old.etag.as_str()),
    )
    .await;
    assert_eq!(
        answer(response, &wav, &new.etag, "If-Range: the old tag").await,
        Whole
    );
    let response = send(
        request(&app, Method::GET, &path, Some(&admin))
            .header(header::RANGE, "bytes=100-199")
            .header(header::IF_RANGE, new.etag.as_str()),
    )
    .await;
    assert_eq!(
        answer(response, &wav, &new.etag, "If-Range: the new tag").await,
        ranges(&[(100, 199)])
    );
}

#[tokio::test]
async fn a_corpus_of_range_headers_is_answered_exactly_on_the_stream() {
    let app = spawn_songs_of(20).await;
    let (file, wav) = audio_file(&app, TRACK).await;
    assert!(wav.len() > 300_000, "20 s at 128 kbit/s");
    let owner = app.login(&owner_of(&app, TRACK).await, DEMO_PASSWORD).await;
    let cases = corpus(wav.len() as u64);
    let distinct: std::collections::HashSet<&Vec<u8>> = cases.iter().map(|(h, _)| h).collect();
    assert_eq!(
        distinct.len(),
        cases.len(),
        "every case is a different header"
    );
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    check_corpus(
        &app,
        &format!("/api/v1/tracks/{TRACK}/stream"),
        Some(&owner),
        &wav,
        &file.etag,
        &cases,
    )
    .await;
}

#[tokio::test]
async fn the_preview_answers_ranges_over_the_clip_not_the_file() {
    let app = spawn_songs_of(60).await;
    let (_, wav) = audio_file(&app, TRACK).await;
    let (file, clip) = rendition_of(&app, TRACK, Cut::Preview).await;
    let len = clip.len() as u64;
    assert!(
        len < wav.len() as u64,
        "the clip is shorter than the stream"
    );
    let last = len - 1;
    let etag = file.etag;
    let mut cases = vec![
        case("bytes=0-43", ranges(&[(0, 43)])),
        case("bytes=40-47", ranges(&[(40, 47)])),
        case("bytes=0-", ranges(&[(0, last)])),
        case("bytes=44-", ranges(&[(44, last)])),
        case("bytes=-1", ranges(&[(last, last)])),
        case("bytes=-100000", ranges(&[(len - 100_000, last)])),
        case(format!("bytes=-{}", wav.len()), ranges(&[(0, last)])),
        case(format!("bytes={last}-"), ranges(&[(last, last)])),
        case(format!("bytes={len}-"), Unsatisfiable),
        case(format!("bytes={}-{}", len, wav.len() - 1), Unsatisfiable),
        case(format!("bytes=0-{}", wav.len()), ranges(&[(0, last)])),
        case("bytes=-0", Unsatisfiable),
        case(
            "bytes=0-3,40-47,-4",
            ranges(&[(0, 3), (40, 47), (last - 3, last)]),
        ),
        case("bytes=0-43,44-99", ranges(&[(0, 99)])),
        case("bytes=0-,-1", Whole),
        case(
            bytes(spaced(16)),
            Answer::Ranges((0..16).map(|i| (i * 2, i * 2)).collect()),
        ),
        case(bytes(spaced(17)), Whole),
        case(bytes(vec!["0-"; 1000]), Whole),
        case("bytes=5-4", Whole),
        case("items=0-1", Whole),
        case("bytes=0-1,x", Whole),
    ];
    cases.push((b"bytes=0-1\xff".to_vec(), Whole));
    check_corpus(
        &app,
        &format!("/api/v1/tracks/{TRACK}/preview"),
        None,
        &clip,
        &etag,
        &cases,
    )
    .await;
    let response = send(
        request(
            &app,
            Method::GET,
            &format!("/api/v1/tracks/{TRACK}/preview"),
            None,
        )
        .header(header::RANGE, format!("bytes={len}-")),
    )
    .await;
    assert_eq!(
        must(response.headers(), header::CONTENT_RANGE),
        format!("bytes */{len}")
    );
    let problem = assert_problem(response, 416).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(&len.to_string()));
}

#[tokio::test]
async fn a_signed_url_streams_without_a_token_for_the_one_who_asked_for_it() {
    let app = spawn().await;
    let (file, wav) = audio_file(&app, TRACK).await;
    let owner_email = owner_of(&app, TRACK).await;
    let owner = app.login(&owner_email, DEMO_PASSWORD).await;
    let asked_at = chrono::Utc::now().timestamp();
    let response = send(request(
        &app,
        Method::POST,
        &format!("/api/v1/tracks/{TRACK}/stream-url"),
        Some(&owner),
    ))
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let url = body["url"].as_str().expect("a url").to_string();
    let parsed = url::Url::parse(&app.url(&url)).unwrap();
    assert_eq!(parsed.path(), format!("/api/v1/tracks/{TRACK}/stream"));
    let query: std::collections::HashMap<String, String> =
        parsed.query_pairs().into_owned().collect();
    assert_eq!(query.len(), 4, "{url}");
    assert_eq!(
        query["account"],
        account_id(&app, &owner_email).await.to_string()
    );
    assert_eq!(query["session"], accounts::session_id(&owner), "{url}");
    let expires: i64 = query["expires"].parse().unwrap();
    let ttl = app.state.config.stream_url_ttl.as_secs() as i64;
    assert!(
        (asked_at + ttl..=asked_at + ttl + 60).contains(&expires),
        "{url}"
    );
    let expires_at = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap())
        .expect("expires_at is RFC 3339");
    assert_eq!(expires_at.timestamp(), expires);

    // No token needed: the URL carries the right, ranges and all.
    let response = send(request(&app, Method::GET, &url, None)).await;
    assert_eq!(answer(response, &wav, &file.etag, &url).await, Whole);
    let response =
        send(request(&app, Method::GET, &url, None).header(header::RANGE, "bytes=-10")).await;
    let len = wav.len() as u64;
    assert_eq!(
        answer(response, &wav, &file.etag, &url).await,
        ranges(&[(len - 10, len - 1)])
    );
    let alias = url.replace(
        &format!("/api/v1/tracks/{TRACK}/stream"),
        &format!("/stream/track/{TRACK}"),
    );
    let response = send(request(&app, Method::GET, &alias, None)).await;
    assert_eq!(answer(response, &wav, &file.etag, &alias).await, Whole);

    // Asking for one needs a token and the right to the track.
    let stranger = app
        .login(&non_owner_of(&app, TRACK).await, DEMO_PASSWORD)
        .await;
    let ask = |track: i64, token: Option<&str>| {
        request(
            &app,
            Method::POST,
            &format!("/api/v1/tracks/{track}/stream-url"),
            token,
        )
    };
    assert_problem(send(ask(TRACK, None)).await, 401).await;
    assert_problem(send(ask(TRACK, Some(&stranger))).await, 403).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    assert_problem(send(ask(999_999, Some(&admin))).await, 404).await;
    assert_eq!(send(ask(2, Some(&admin))).await.status(), 201);
}

#[tokio::test]
async fn a_signed_url_that_is_expired_changed_or_incomplete_is_refused() {
    let app = spawn().await;
    let owner_email = owner_of(&app, TRACK).await;
    let owner_id = account_id(&app, &owner_email).await;
    let stranger_email = non_owner_of(&app, TRACK).await;
    let stranger_id = account_id(&app, &stranger_email).await;
    let session = accounts::session_id(&app.login(&owner_email, DEMO_PASSWORD).await);
    let stranger_session = accounts::session_id(&app.login(&stranger_email, DEMO_PASSWORD).await);
    let now = chrono::Utc::now().timestamp();
    let stream = format!("/api/v1/tracks/{TRACK}/stream");
    let valid = app.state.signer.sign(TRACK, owner_id, &session, now + 600);
    let field = |name: &str| -> String {
        valid
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_string()
    };
    let signature = field("signature");
    let mut flipped = signature.clone();
    let first = if flipped.starts_with('0') { "1" } else { "0" };
    flipped.replace_range(0..1, first);
    let status = |response: Response| response.status().as_u16();
    assert_eq!(
        status(
            send(request(
                &app,
                Method::GET,
                &format!("{stream}?{valid}"),
                None
            ))
            .await
        ),
        200,
        "the untouched URL works"
    );

    let refused = [
        // Expired a minute ago, though correctly signed.
        format!(
            "{stream}?{}",
            app.state.signer.sign(TRACK, owner_id, &session, now - 60)
        ),
        format!("{stream}?account={owner_id}&session={session}&expires={now}&signature={signature}"),
        format!(
            "{stream}?account={owner_id}&session={session}&expires={}&signature={flipped}",
            now + 600
        ),
        format!(
            "{stream}?account={stranger_id}&session={session}&expires={}&signature={signature}",
            now + 600
        ),
        format!(
            "{stream}?account={owner_id}&session={stranger_session}&expires={}&signature={signature}",
            now + 600
        ),
        format!(
            "{stream}?account={owner_id}&session={session}&expires={}&signature={signature}",
            now + 601
        ),
        format!(
            "{stream}?account={owner_id}&session={session}&expires={}&signature={}",
            now + 600,
            &signature[..62]
        ),
        format!(
            "{stream}?account={owner_id}&session={session}&expires={}&signature=zz{}",
            now + 600,
            &signature[2..]
        ),
        // Correctly signed, but for a session the owner never had, or another account's.
        format!(
            "{stream}?{}",
            app.state.signer.sign(TRACK, owner_id, &"0".repeat(32), now + 600)
        ),
        format!(
            "{stream}?{}",
            app.state.signer.sign(TRACK, owner_id, &stranger_session, now + 600)
        ),
        // Another track's path.
        format!("/api/v1/tracks/2/stream?{valid}"),
        // Correctly signed for an account without the right: a URL grants no more than its
        // account has.
        format!(
            "{stream}?{}",
            app.state.signer.sign(TRACK, stranger_id, &stranger_session, now + 600)
        ),
    ];
    for url in &refused {
        let response = send(request(&app, Method::GET, url, None)).await;
        assert_problem(response, 403).await;
    }
    let expired = send(request(
        &app,
        Method::GET,
        &format!(
            "{stream}?{}",
            app.state.signer.sign(TRACK, owner_id, &session, now - 60)
        ),
        None,
    ))
    .await;
    let problem = assert_problem(expired, 403).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("expired"),
        "{problem}"
    );

    // Part of a signature is a credential that does not verify, as a wrong one is.
    let incomplete = [
        format!("{stream}?signature={signature}"),
        format!("{stream}?account={owner_id}&signature={signature}"),
        format!("{stream}?account={owner_id}&expires={}", now + 600),
        format!("{stream}?expires={}", now + 600),
    ];
    for url in &incomplete {
        let response = send(request(&app, Method::GET, url, None)).await;
        assert_problem(response, 401).await;
    }
    let malformed = [
        format!("{stream}?{valid}&extra=1"),
        format!("{stream}?account=x&expires=1&signature={signature}"),
        format!("{stream}?account={owner_id}&expires=99999999999999999999&signature={signature}"),
    ];
    for url in &malformed {
        let response = send(request(&app, Method::GET, url, None)).await;
        assert_problem(response, 400).await;
    }
}

#[tokio::test]
async fn logging_out_revokes_the_signed_urls_of_that_session_only() {
    let app = spawn().await;
    let (file, wav) = audio_file(&app, TRACK).await;
    let owner_email = owner_of(&app, TRACK).await;
    let (phone, laptop) = (
        app.login(&owner_email, DEMO_PASSWORD).await,
        app.login(&owner_email, DEMO_PASSWORD).await,
    );
    let signed = |token: String| {
        let app = &app;
        async move {
            let ask = format!("/api/v1/tracks/{TRACK}/stream-url");
            let response = send(request(app, Method::POST, &ask, Some(&token))).await;
            assert_eq!(response.status(), 201);
            let body: Value = response.json().await.unwrap();
            body["url"].as_str().unwrap().to_string()
        }
    };
    let (on_phone, on_laptop) = (signed(phone.clone()).await, signed(laptop.clone()).await);
    for url in [&on_phone, &on_laptop] {
        let response = send(request(&app, Method::GET, url, None)).await;
        assert_eq!(answer(response, &wav, &file.etag, url).await, Whole);
    }

    let logout = send(request(
        &app,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&phone),
    ))
    .await;
    assert!(logout.status().is_success(), "{}", logout.status());

    // The phone's URL stops at once, through the alias too; its token is a 401.
    let alias = on_phone.replace(
        &format!("/api/v1/tracks/{TRACK}/stream"),
        &format!("/stream/track/{TRACK}"),
    );
    for url in [&on_phone, &alias] {
        let problem = assert_problem(send(request(&app, Method::GET, url, None)).await, 403).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("session"),
            "{problem}"
        );
    }
    assert_problem(
        send(request(&app, Method::GET, "/api/v1/me", Some(&phone))).await,
        401,
    )
    .await;
    // The laptop's `<audio>` keeps playing: whole, and seeking with ranges.
    let response = send(request(&app, Method::GET, &on_laptop, None)).await;
    assert_eq!(answer(response, &wav, &file.etag, &on_laptop).await, Whole);
    let response =
        send(request(&app, Method::GET, &on_laptop, None).header(header::RANGE, "bytes=0-99"))
            .await;
    assert_eq!(
        answer(response, &wav, &file.etag, &on_laptop).await,
        ranges(&[(0, 99)])
    );
}

#[tokio::test]
async fn a_listener_past_the_stream_cap_waits_until_a_stream_is_dropped_or_finished() {
    let app = TestApp::spawn_with(|config| {
        config.max_streams_per_account = 1;
        config.stream_chunk_bytes = 4096;
    })
    .await;
    // Far more than the socket buffers between server and client hold, so a response left
    // unread cannot be finished by the server.
    let samples = 40_000_000usize;
    give_audio(&app, TRACK, 1_000).await;
    place_rendition(&app, TRACK, Rendition::Stream, &vec![0x55; samples]).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let admin_id = account_id(&app, ADMIN).await;
    let path = format!("/api/v1/tracks/{TRACK}/stream");

    let playing = send(request(&app, Method::GET, &path, Some(&admin))).await;
    assert_eq!(playing.status(), 200);
    assert_eq!(content_length(playing.headers()), samples as u64);
    assert_eq!(app.state.streams.open_streams(admin_id), 1);

    for other in [
        path.clone(),
        "/api/v1/tracks/2/stream".to_string(),
        "/api/v1/tracks/2/download".to_string(),
    ] {
        let refused = send(request(&app, Method::GET, &other, Some(&admin))).await;
        let retry_after: u64 = must(refused.headers(), header::RETRY_AFTER)
            .parse()
            .expect("Retry-After in seconds");
        assert!(retry_after > 0);
        assert_problem(refused, 429).await;
    }
    // HEAD, revalidation, previews and other accounts take no place of this one's.
    let head = send(request(&app, Method::HEAD, &path, Some(&admin))).await;
    assert_eq!(head.status(), 200);
    let etag = must(head.headers(), header::ETAG).to_string();
    let current =
        send(request(&app, Method::GET, &path, Some(&admin)).header(header::IF_NONE_MATCH, etag))
            .await;
    assert_eq!(
        current.status(),
        304,
        "a 304 sends no bytes, so the cap does not apply"
    );
    let preview = send(request(&app, Method::GET, "/api/v1/tracks/2/preview", None)).await;
    assert_eq!(preview.status(), 200);
    preview.bytes().await.unwrap();
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let other_account =
        send(request(&app, Method::GET, &path, Some(&staff)).header(header::RANGE, "bytes=0-99"))
            .await;
    assert_eq!(other_account.status(), 206);
    assert_eq!(other_account.bytes().await.unwrap().len(), 100);

    // Dropping the unread response ends the stream and frees its place.
    drop(playing);
    let small = "/api/v1/tracks/2/stream";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = send(request(&app, Method::GET, small, Some(&admin))).await;
        match response.status().as_u16() {
            200 => {
                let (_, wav) = audio_file(&app, 2).await;
                assert!(response.bytes().await.unwrap()[..] == wav[..]);
                break;
            }
            429 => assert!(
                Instant::now() < deadline,
                "the dropped stream never freed its place"
            ),
            other => panic!("GET {small}: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A stream read to its end frees its place too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.streams.open_streams(admin_id) != 0 {
        assert!(
            Instant::now() < deadline,
            "a finished stream kept its place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ranged =
        send(request(&app, Method::GET, &path, Some(&admin)).header(header::RANGE, "bytes=0-0,-1"))
            .await;
    assert_eq!(ranged.status(), 206);
    ranged.bytes().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.streams.open_streams(admin_id) != 0 {
        assert!(
            Instant::now() < deadline,
            "a finished multipart stream kept its place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let again = send(request(&app, Method::GET, small, Some(&admin))).await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn concurrent_listeners_each_get_exactly_the_bytes_they_asked_for() {
    let app = spawn().await;
    let (file, wav) = audio_file(&app, TRACK).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let path = format!("/api/v1/tracks/{TRACK}/stream");
    let len = wav.len() as u64;
    let requests = (0..24u64).map(|i| {
        let start = i * (len / 24);
        let spec = match i % 3 {
            0 => format!("bytes={start}-{}", start + 9_999),
            1 => format!("bytes={start}-{},-{}", start + 99, i + 1),
            _ => format!("bytes={start}-"),
        };
        let builder =
            request(&app, Method::GET, &path, Some(&admin)).header(header::RANGE, spec.clone());
        let (wav, etag) = (&wav, &file.etag);
        async move {
            let response = send(builder).await;
            let got = answer(response, wav, etag, &spec).await;
            assert!(matches!(got, Answer::Ranges(_)), "{spec}: {got:?}");
        }
    });
    futures_util::future::join_all(requests).await;
}

#[tokio::test]
async fn an_empty_file_is_served_as_nothing_and_no_range_of_it_is_satisfiable() {
    let app = spawn().await;
    give_audio(&app, 3, 1_000).await;
    place_rendition(&app, 3, Rendition::Stream, &[]).await;
    place_rendition(&app, 3, Rendition::Preview, &[]).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let stream = rendition_of(&app, 3, Cut::Stream).await.0.etag;
    let preview = rendition_of(&app, 3, Cut::Preview).await.0.etag;
    for (path, etag) in [
        ("/api/v1/tracks/3/stream", stream.as_str()),
        ("/api/v1/tracks/3/preview", preview.as_str()),
    ] {
        let cases = [
            case("bytes=0-", Unsatisfiable),
            case("bytes=0-0", Unsatisfiable),
            case("bytes=-1", Unsatisfiable),
            case("bytes=0-0,-1", Unsatisfiable),
            case("bytes=5-4", Whole),
            case("bytes=x", Whole),
        ];
        check_corpus(&app, path, Some(&admin), &[], etag, &cases).await;
        let response = send(request(&app, Method::GET, path, Some(&admin))).await;
        assert_eq!(answer(response, &[], etag, path).await, Whole);
    }
}

/// A `track_audio` row whose file has gone from the media store (a volume not mounted, a
/// file removed by hand) before its renditions were made is an outage the client must be
/// told about before any byte is promised.
#[tokio::test]
async fn a_track_whose_file_is_missing_is_refused_before_anything_is_promised() {
    let app = spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let file = give_audio(&app, 2, 1_000).await;
    std::fs::remove_file(app.state.media.path_of(&file.path).unwrap()).unwrap();
    let mut statuses = Vec::new();
    for kind in ["stream", "download", "preview"] {
        let path = format!("/api/v1/tracks/2/{kind}");
        let response = request(&app, Method::GET, &path, Some(&admin))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: the connection broke: {e}"));
        let status = response.status().as_u16();
        assert_ne!(status, 200, "GET {path} promised a file it does not have");
        statuses.push(status);
        assert_problem(response, status).await;
    }
    assert!(
        statuses.windows(2).all(|w| w[0] == w[1]),
        "stream, download and preview disagree: {statuses:?}"
    );
}
