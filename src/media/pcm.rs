//! PCM audio as a stream of blocks, from a generated song or from a stored master decoded by
//! symphonia. Decoding a master is also how an upload proves it is the audio it claims to be:
//! it must open as its container, hold nothing but audio of a codec this service decodes,
//! state a sample rate, decode without errors, and hold as much audio as it declares.

use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{self, CodecType, Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// The shape of a PCM stream: 16-bit samples, interleaved, one or two channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub sample_rate: u32,
    pub channels: u16,
}

/// Audio read front to back in blocks.
pub trait PcmSource {
    fn spec(&self) -> Spec;
    /// Replaces `out` with up to `frames` frames; 0 at the end.
    fn read(&mut self, out: &mut Vec<i16>, frames: usize) -> anyhow::Result<usize>;
    /// Called once everything was read: a source that can tell it ended early says so.
    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Why a file is not audio this service takes, in words for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAudio {
    /// Not a kind of audio this service decodes (415).
    #[error("{0}")]
    Unsupported(String),
    /// Claims to be a kind it is not, or is damaged (422).
    #[error("{0}")]
    Invalid(String),
}

/// The containers uploads may come in, as their first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Wav,
    Mp3,
    Flac,
    Ogg,
    Mp4,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Wav => "WAV",
            Container::Mp3 => "MP3",
            Container::Flac => "FLAC",
            Container::Ogg => "Ogg",
            Container::Mp4 => "MP4/M4A",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Mp3 => "mp3",
            Container::Flac => "flac",
            Container::Ogg => "ogg",
            Container::Mp4 => "m4a",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Container::Wav => "audio/wav",
            Container::Mp3 => "audio/mpeg",
            Container::Flac => "audio/flac",
            Container::Ogg => "audio/ogg",
            Container::Mp4 => "audio/mp4",
        }
    }

    fn from_extension(extension: &str) -> Option<Self> {
        Some(match extension {
            "wav" => Container::Wav,
            "mp3" => Container::Mp3,
            "flac" => Container::Flac,
            "ogg" | "oga" | "opus" => Container::Ogg,
            "m4a" | "mp4" => Container::Mp4,
            _ => return None,
        })
    }

    /// Whether audio of `codec` may come in this container.
    fn carries(self, codec: CodecType) -> bool {
        use codecs::*;
        match self {
            // The WAV reader yields PCM only.
            Container::Wav => true,
            Container::Mp3 => codec == CODEC_TYPE_MP3,
            Container::Flac => codec == CODEC_TYPE_FLAC,
            Container::Ogg => codec == CODEC_TYPE_VORBIS,
            Container::Mp4 => {
                codec == CODEC_TYPE_AAC || codec == CODEC_TYPE_ALAC || codec == CODEC_TYPE_MP3
            }
        }
    }
}

/// The sample rate a WAV's `fmt ` chunk states, when its first 4 KiB hold one.
fn wav_sample_rate(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::fs::FileExt;
    let mut head = vec![0u8; 4096];
    let n = file.read_at(&mut head, 0).ok()?;
    let head = &head[..n];
    let mut at = 12;
    while at + 8 <= head.len() {
        let id = &head[at..at + 4];
        let size = u32::from_le_bytes(head[at + 4..at + 8].try_into().ok()?) as usize;
        if id == b"fmt " {
            let rate = head.get(at + 12..at + 16)?;
            return Some(u32::from_le_bytes(rate.try_into().ok()?));
        }
        at = at.checked_add(8 + size + (size & 1))?;
    }
    None
}

/// The highest sample rate accepted: past it a file is more likely broken than hi-res.
const MAX_SAMPLE_RATE: u32 = 384_000;

/// A stored or uploaded file, decoded as it is read.
pub struct Decoded {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track: u32,
    container: Container,
    spec: Spec,
    /// Channels in the file; more than two are mixed down to their first two.
    source_channels: usize,
    pending: Vec<i16>,
    buffer: Option<SampleBuffer<i16>>,
    declared_frames: Option<u64>,
    decoded_frames: u64,
    ended: bool,
}

impl Decoded {
    /// Opens `path`, which its first bytes say is `container`.
    pub fn open(path: &Path, container: Container) -> Result<Self, BadAudio> {
        let invalid = |why: String| {
            BadAudio::Invalid(format!(
                "the file starts like {} but is not readable as one: {why}",
                container.name()
            ))
        };
        let file = std::fs::File::open(path)
            .map_err(|e| BadAudio::Invalid(format!("the file cannot be read: {e}")))?;
        if container == Container::Wav {
            // symphonia's WAV reader panics on a rate of 0: refuse it first, by name.
            if wav_sample_rate(&file) == Some(0) {
                return Err(invalid("its sample rate is 0 Hz".into()));
            }
        }
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        hint.with_extension(container.extension());
        let options = FormatOptions {
            enable_gapless: true,
            ..FormatOptions::default()
        };
        let probed = symphonia::default::get_probe()
            .format(&hint, stream, &options, &MetadataOptions::default())
            .map_err(|e| invalid(e.to_string()))?;
        let format = probed.format;
        if format.tracks().is_empty() {
            return Err(invalid("it holds no tracks".into()));
        }
        if format.tracks().len() > 1 || format.tracks()[0].codec_params.codec == CODEC_TYPE_NULL {
            return Err(BadAudio::Unsupported(format!(
                "the {} file holds {} track(s), not one audio track: a video, or audio in a \
                 codec this store does not decode",
                container.name(),
                format.tracks().len()
            )));
        }
        let track = &format.tracks()[0];
        let params = track.codec_params.clone();
        if params.codec == codecs::CODEC_TYPE_OPUS {
            return Err(BadAudio::Unsupported(
                "Opus is not taken: no Opus decoder is built in; send Ogg Vorbis, FLAC, WAV, \
                 MP3 or MP4/M4A audio"
                    .into(),
            ));
        }
        if !container.carries(params.codec) {
            let codec = symphonia::default::get_codecs()
                .get_codec(params.codec)
                .map_or("an unknown codec", |d| d.short_name);
            return Err(BadAudio::Unsupported(format!(
                "{} files are taken with their usual codecs; this one holds {codec}",
                container.name()
            )));
        }
        let sample_rate = params.sample_rate.unwrap_or(0);
        if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
            return Err(invalid(format!("its sample rate is {sample_rate} Hz")));
        }
        // AAC and ALAC may state their channels only in their first frame or their cookie.
        let source_channels = params.channels.map_or(0, |c| c.count());
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| BadAudio::Unsupported(format!("its audio cannot be decoded: {e}")))?;
        Ok(Decoded {
            track: track.id,
            format,
            decoder,
            container,
            spec: Spec {
                sample_rate,
                // Unstated channels are taken as stereo, which mono is widened to anyway.
                channels: if source_channels == 0 {
                    2
                } else {
                    source_channels.min(2) as u16
                },
            },
            source_channels,
            pending: Vec::new(),
            buffer: None,
            declared_frames: params.n_frames.filter(|&n| n > 0),
            decoded_frames: 0,
            ended: false,
        })
    }

    /// Opens a stored file, its container known by its extension.
    pub fn open_stored(path: &Path) -> anyhow::Result<Self> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let container = Container::from_extension(extension)
            .ok_or_else(|| anyhow::anyhow!("{} is not a kind of audio file", path.display()))?;
        Ok(Self::open(path, container)?)
    }

    pub fn container(&self) -> Container {
        self.container
    }

    /// Frames decoded so far: after the last read, the file's length.
    pub fn decoded_frames(&self) -> u64 {
        self.decoded_frames
    }

    fn damaged(&self, why: impl std::fmt::Display) -> anyhow::Error {
        let at = self.decoded_frames as f64 / f64::from(self.spec.sample_rate);
        BadAudio::Invalid(format!(
            "the {} file is damaged {at:.1} s in: {why}",
            self.container.name()
        ))
        .into()
    }

    /// Decodes the next packet into `pending`; false at the end of the file.
    fn decode_next(&mut self) -> anyhow::Result<bool> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(false)
                }
                Err(e) => return Err(self.damaged(e)),
            };
            if packet.track_id() != self.track {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(e) => return Err(self.damaged(e)),
            };
            let spec = *decoded.spec();
            if spec.rate != self.spec.sample_rate {
                return Err(self.damaged("the sample rate changes midway"));
            }
            let frames = decoded.frames();
            if frames == 0 {
                continue;
            }
            let channels = spec.channels.count();
            if self.source_channels == 0 {
                self.source_channels = channels;
            } else if channels != self.source_channels {
                return Err(self.damaged("the number of channels changes midway"));
            }
            let buffer = match &mut self.buffer {
                Some(buffer) if buffer.capacity() >= frames * channels => buffer,
                slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
            };
            buffer.copy_interleaved_ref(decoded);
            let samples = buffer.samples();
            let wanted = usize::from(self.spec.channels);
            if channels == wanted {
                self.pending.extend_from_slice(samples);
            } else if channels == 1 {
                // Declared stereo (AAC without a channel count) but mono: widen.
                for &s in samples {
                    self.pending.extend_from_slice(&[s, s]);
                }
            } else {
                for frame in samples.chunks_exact(channels) {
                    self.pending.extend_from_slice(&frame[..wanted]);
                }
            }
            self.decoded_frames += frames as u64;
            return Ok(true);
        }
    }
}

impl PcmSource for Decoded {
    fn spec(&self) -> Spec {
        self.spec
    }

    fn read(&mut self, out: &mut Vec<i16>, frames: usize) -> anyhow::Result<usize> {
        let width = usize::from(self.spec.channels);
        while !self.ended && self.pending.len() < frames * width {
            if !self.decode_next()? {
                self.ended = true;
            }
        }
        let take = (frames * width).min(self.pending.len());
        out.clear();
        out.extend(self.pending.drain(..take));
        Ok(take / width)
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.decoded_frames == 0 {
            return Err(BadAudio::Invalid(format!(
                "the {} file holds no audio",
                self.container.name()
            ))
            .into());
        }
        if let Some(declared) = self.declared_frames {
            // Encoders pad the last frame, and gapless trimming is not exact everywhere: a
            // file is short when more than 2% or 200 ms of what it declares is missing.
            let slack = (declared / 50).max(u64::from(self.spec.sample_rate) / 5);
            if self.decoded_frames + slack < declared {
                let rate = f64::from(self.spec.sample_rate);
                return Err(BadAudio::Invalid(format!(
                    "the {} file is truncated: it declares {:.1} s of audio and holds {:.1} s",
                    self.container.name(),
                    declared as f64 / rate,
                    self.decoded_frames as f64 / rate
                ))
                .into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::encode::{render, Rendition};
    use crate::media::synth::Synth;

    fn all(source: &mut dyn PcmSource) -> Vec<i16> {
        let (mut out, mut block) = (Vec::new(), Vec::new());
        while source.read(&mut block, 1000).unwrap() > 0 {
            out.extend_from_slice(&block);
        }
        out
    }

    #[test]
    fn a_flac_rendition_decodes_to_exactly_the_samples_it_was_made_from() {
        let flac = render(&mut Synth::new(9, 1_500), &[Rendition::Flac])
            .unwrap()
            .pop()
            .unwrap()
            .1;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.flac");
        std::fs::write(&path, &flac).unwrap();
        let mut decoded = Decoded::open_stored(&path).unwrap();
        assert_eq!(
            decoded.spec(),
            Spec {
                sample_rate: 44_100,
                channels: 2
            }
        );
        let samples = all(&mut decoded);
        decoded.finish().unwrap();
        assert!(samples == all(&mut Synth::new(9, 1_500)), "lossless");
    }
}
