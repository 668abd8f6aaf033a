//! ffprobe and ffmpeg (Debian's `ffmpeg` package; scripts/test installs it as root) as the
//! judges of audio: what a file decodes to, and real files in every accepted format to upload.

use std::io::Write;
use std::process::{Command, Stdio};

/// What ffprobe reads in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub format: String,
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
    pub duration: f64,
}

fn missing(tool: &str, e: std::io::Error) -> ! {
    panic!("{tool} is needed to judge audio ({e}): install Debian's ffmpeg package (scripts/test does, as root)")
}

/// Runs `tool` with `args`, `input` on standard input; its standard output and success.
fn run(tool: &str, args: &[&str], input: &[u8]) -> (Vec<u8>, bool, String) {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| missing(tool, e));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from another thread: a tool that stops reading early must not block the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    let _ = writer.join();
    (
        output.stdout,
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// A temporary file holding `bytes`, removed when dropped.
struct Temporary(std::path::PathBuf);

impl Temporary {
    fn new(extension: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "chinook-judge-{}.{extension}",
            uuid::Uuid::new_v4()
        )))
    }

    fn with(bytes: &[u8]) -> Self {
        let file = Self::new("bin");
        std::fs::write(&file.0, bytes).unwrap();
        file
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// ffprobe's reading of `bytes`.
pub fn probe(bytes: &[u8]) -> Probe {
    let file = Temporary::with(bytes);
    let (out, ok, err) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "format=format_name,duration:stream=codec_name,sample_rate,channels",
            "-of",
            "json",
            "-i",
            file.path(),
        ],
        &[],
    );
    assert!(ok, "ffprobe refused the file: {err}");
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let stream = &v["streams"][0];
    let number = |x: &serde_json::Value| x.as_str().and_then(|s| s.parse::<f64>().ok());
    Probe {
        format: v["format"]["format_name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        codec: stream["codec_name"].as_str().unwrap_or("").to_string(),
        sample_rate: number(&stream["sample_rate"]).unwrap_or(0.0) as u32,
        channels: stream["channels"].as_u64().unwrap_or(0) as u32,
        duration: number(&v["format"]["duration"]).unwrap_or(0.0),
    }
}

/// The seconds of audio ffmpeg decodes from `bytes`, counted sample by sample, with no
/// decoding error allowed.
pub fn decoded_seconds(bytes: &[u8]) -> f64 {
    let file = Temporary::with(bytes);
    let (out, ok, err) = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-xerror",
            "-i",
            file.path(),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "8000",
            "pipe:1",
        ],
        &[],
    );
    assert!(
        ok && err.trim().is_empty(),
        "ffmpeg could not decode the file cleanly: {err}"
    );
    out.len() as f64 / 2.0 / 8000.0
}

/// A file ffmpeg makes: `seconds` of a two-tone chord in stereo, through `args` (codec
/// options), as a file named `.extension`.
pub fn make(seconds: f64, args: &[&str], extension: &str) -> Vec<u8> {
    let file = Temporary::new(extension);
    let source = format!("sine=frequency=440:duration={seconds}");
    let second = format!("sine=frequency=660:duration={seconds}");
    let mut all = vec![
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        &source,
        "-f",
        "lavfi",
        "-i",
        &second,
        "-filter_complex",
        "[0:a][1:a]amerge=inputs=2[a]",
        "-map",
        "[a]",
    ];
    all.extend_from_slice(args);
    all.push(file.path());
    let (_, ok, err) = run("ffmpeg", &all, &[]);
    assert!(ok, "ffmpeg could not make {args:?}: {err}");
    std::fs::read(&file.0).unwrap()
}

/// A short MP4 video with a sound track.
pub fn video(seconds: f64) -> Vec<u8> {
    let file = Temporary::new("mp4");
    let duration = seconds.to_string();
    let target = file.path().to_string();
    let (_, ok, err) = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            &duration,
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-shortest",
            &target,
        ],
        &[],
    );
    assert!(ok, "ffmpeg could not make a video: {err}");
    std::fs::read(&file.0).unwrap()
}

/// An 8 kHz, 8-bit mono PCM WAV of `samples` bytes of a ramp: small, and real audio.
pub fn wav(samples: usize, offset: u8) -> Vec<u8> {
    let data_len = samples as u32;
    let mut h = Vec::with_capacity(44 + samples);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&8000u32.to_le_bytes());
    h.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    h.extend_from_slice(&1u16.to_le_bytes()); // block align
    h.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h.extend((0..samples).map(|i| ((i / 8) as u8).wrapping_add(offset)));
    h
}
