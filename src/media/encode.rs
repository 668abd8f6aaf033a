//! Renditions of a master, encoded in one pass over its PCM: MP3 through LAME (built from
//! the source `mp3lame-sys` bundles) and FLAC through flacenc (pure Rust). Each MP3 starts
//! with a LAME "Info" frame stating its length and the encoder's delay and padding, so
//! players show the right duration and trim the padding.

use std::num::NonZeroU32;

use anyhow::Context;
use flacenc::component::BitRepr;
use flacenc::error::Verify;
use mp3lame_encoder::{Bitrate, Builder, Encoder, FlushNoGap, InterleavedPcm, Mode, Quality};

use super::pcm::{PcmSource, Spec};

/// The longest preview.
pub const PREVIEW_MS: u64 = 30_000;
/// Frames handed to the encoders at a time.
const BLOCK_FRAMES: usize = 4096;

/// What a master is rendered into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rendition {
    /// What players stream: MP3, 128 kbit/s CBR, stereo.
    Stream,
    /// The first 30 seconds, as the stream.
    Preview,
    /// The lossless download: FLAC, 16-bit, at the master's rate.
    Flac,
    /// The lossy download: MP3, 320 kbit/s CBR.
    Mp3,
}

impl Rendition {
    pub const ALL: [Rendition; 4] = [
        Rendition::Stream,
        Rendition::Preview,
        Rendition::Flac,
        Rendition::Mp3,
    ];

    /// Its part of a file name.
    pub fn name(self) -> &'static str {
        match self {
            Rendition::Stream => "stream",
            Rendition::Preview => "preview",
            Rendition::Flac => "flac",
            Rendition::Mp3 => "mp3",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Rendition::Flac => "flac",
            _ => "mp3",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Rendition::Flac => "audio/flac",
            _ => "audio/mpeg",
        }
    }

    fn bitrate(self) -> Bitrate {
        match self {
            Rendition::Mp3 => Bitrate::Kbps320,
            _ => Bitrate::Kbps128,
        }
    }
}

/// An MP3 encoder fed block by block, stopping at `limit` frames.
struct Mp3 {
    rendition: Rendition,
    encoder: Encoder,
    out: Vec<u8>,
    limit: u64,
    fed: u64,
    stereo: Vec<i16>,
    /// Output frames per input frame, at least 1: LAME writes at its output rate.
    stretch: usize,
}

/// LAME's output rates: the master's when MPEG-1 has it, else the nearest sensible one
/// (LAME resamples).
fn mp3_rate(input: u32) -> u32 {
    match input {
        32_000 | 44_100 | 48_000 => input,
        rate if rate > 48_000 => 48_000,
        _ => 44_100,
    }
}

impl Mp3 {
    fn new(rendition: Rendition, spec: Spec, limit: u64) -> anyhow::Result<Self> {
        let lame = |e: mp3lame_encoder::BuildError| anyhow::anyhow!("LAME refused a setting: {e}");
        let mut builder = Builder::new().context("LAME could not allocate an encoder")?;
        builder.set_num_channels(2).map_err(lame)?;
        builder.set_sample_rate(spec.sample_rate).map_err(lame)?;
        builder
            .set_output_sample_rate(NonZeroU32::new(mp3_rate(spec.sample_rate)))
            .map_err(lame)?;
        builder.set_brate(rendition.bitrate()).map_err(lame)?;
        builder.set_mode(Mode::JointStereo).map_err(lame)?;
        builder.set_quality(Quality::Good).map_err(lame)?;
        builder.set_to_write_vbr_tag(true).map_err(lame)?;
        Ok(Mp3 {
            rendition,
            encoder: builder.build().map_err(lame)?,
            out: Vec::new(),
            limit,
            fed: 0,
            stereo: Vec::new(),
            stretch: mp3_rate(spec.sample_rate).div_ceil(spec.sample_rate).max(1) as usize,
        })
    }

    fn feed(&mut self, block: &[i16], channels: u16) -> anyhow::Result<()> {
        let frames = (block.len() / usize::from(channels)) as u64;
        let take = frames.min(self.limit - self.fed) as usize;
        if take == 0 {
            return Ok(());
        }
        let input: &[i16] = if channels == 2 {
            &block[..take * 2]
        } else {
            self.stereo.clear();
            self.stereo
                .extend(block[..take].iter().flat_map(|&s| [s, s]));
            &self.stereo
        };
        // One frame more than the input's worth at the output rate: LAME may hold back and
        // then emit a frame it buffered.
        self.out.reserve(mp3lame_encoder::max_required_buffer_size(
            take * self.stretch + 1152,
        ));
        self.encoder
            .encode_to_vec(InterleavedPcm(input), &mut self.out)
            .map_err(|e| anyhow::anyhow!("LAME failed: {e}"))?;
        self.fed += take as u64;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<Vec<u8>> {
        self.out.reserve(7200);
        self.encoder
            .flush_to_vec::<FlushNoGap>(&mut self.out)
            .map_err(|e| anyhow::anyhow!("LAME failed to flush: {e}"))?;
        // The first frame is a placeholder until the encoder knows the totals.
        let mut tag: Vec<u8> = Vec::with_capacity(self.encoder.lame_tag_size());
        if self.encoder.lame_tag_encode_to_vec(&mut tag).is_some() && tag.len() <= self.out.len() {
            self.out[..tag.len()].copy_from_slice(&tag);
        }
        Ok(self.out)
    }
}

/// A PCM source that also feeds the MP3 encoders, read by the FLAC encoder.
struct Tee<'a> {
    source: &'a mut dyn PcmSource,
    spec: Spec,
    mp3s: &'a mut [Mp3],
    block: Vec<i16>,
    wide: Vec<i32>,
    failed: Option<anyhow::Error>,
}

impl Tee<'_> {
    fn next(&mut self, frames: usize) -> anyhow::Result<usize> {
        let read = self.source.read(&mut self.block, frames)?;
        for mp3 in self.mp3s.iter_mut() {
            mp3.feed(&self.block, self.spec.channels)?;
        }
        Ok(read)
    }
}

impl flacenc::source::Source for Tee<'_> {
    fn channels(&self) -> usize {
        usize::from(self.spec.channels)
    }

    fn bits_per_sample(&self) -> usize {
        16
    }

    fn sample_rate(&self) -> usize {
        self.spec.sample_rate as usize
    }

    fn read_samples<F: flacenc::source::Fill>(
        &mut self,
        block_size: usize,
        dest: &mut F,
    ) -> Result<usize, flacenc::error::SourceError> {
        let read = match self.next(block_size) {
            Ok(read) => read,
            Err(e) => {
                self.failed = Some(e);
                return Err(flacenc::error::SourceError::from_io_error(
                    std::io::Error::other("the PCM source failed"),
                ));
            }
        };
        if read == 0 {
            return Ok(0);
        }
        self.wide.clear();
        self.wide.extend(self.block.iter().map(|&s| i32::from(s)));
        dest.fill_interleaved(&self.wide)?;
        Ok(read)
    }
}

/// Renders `wanted` from `source` in one pass, returning each rendition's bytes in the
/// order asked. Blocking: run it on the blocking pool.
pub fn render(
    source: &mut dyn PcmSource,
    wanted: &[Rendition],
) -> anyhow::Result<Vec<(Rendition, Vec<u8>)>> {
    let spec = source.spec();
    anyhow::ensure!(
        spec.sample_rate > 0 && (1..=2).contains(&spec.channels),
        "a PCM source of {spec:?} cannot be encoded"
    );
    let preview_frames = PREVIEW_MS * u64::from(spec.sample_rate) / 1000;
    let mut mp3s = wanted
        .iter()
        .filter(|r| **r != Rendition::Flac)
        .map(|&r| {
            let limit = if r == Rendition::Preview {
                preview_frames
            } else {
                u64::MAX
            };
            Mp3::new(r, spec, limit)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut tee = Tee {
        source,
        spec,
        mp3s: &mut mp3s,
        block: Vec::with_capacity(BLOCK_FRAMES * 2),
        wide: Vec::with_capacity(BLOCK_FRAMES * 2),
        failed: None,
    };
    let mut flac = None;
    if wanted.contains(&Rendition::Flac) {
        let config = flacenc::config::Encoder::default()
            .into_verified()
            .map_err(|(_, e)| anyhow::anyhow!("the FLAC settings are invalid: {e:?}"))?;
        let block_size = config.block_size;
        match flacenc::encode_with_fixed_block_size(&config, &mut tee, block_size) {
            Ok(mut stream) => {
                // The minimum block size leaves out the last block (RFC 9639 §8.2); flacenc
                // counts it, and then decoders that trust the field (symphonia) take the
                // stream for a variable-block-size one and find no frames.
                stream
                    .stream_info_mut()
                    .set_block_sizes(block_size, block_size)
                    .map_err(|e| anyhow::anyhow!("FLAC block sizes: {e:?}"))?;
                let mut sink = flacenc::bitsink::ByteSink::new();
                stream
                    .write(&mut sink)
                    .map_err(|e| anyhow::anyhow!("writing FLAC failed: {e:?}"))?;
                flac = Some(sink.as_slice().to_vec());
            }
            Err(e) => {
                return Err(tee
                    .failed
                    .take()
                    .unwrap_or_else(|| anyhow::anyhow!("FLAC encoding failed: {e:?}")))
            }
        }
    } else {
        // Only the preview: stop once it is full rather than reading the whole master.
        let preview_only = wanted.iter().all(|r| *r == Rendition::Preview);
        let mut read = 0u64;
        while tee.next(BLOCK_FRAMES)? > 0 {
            read += BLOCK_FRAMES as u64;
            if preview_only && read >= preview_frames {
                break;
            }
        }
    }
    // A preview may stop early; a full read is checked for truncation.
    if wanted.iter().any(|r| *r != Rendition::Preview) {
        tee.source.finish()?;
    }
    let mut done: Vec<(Rendition, Vec<u8>)> = Vec::with_capacity(wanted.len());
    for mp3 in mp3s {
        let rendition = mp3.rendition;
        done.push((rendition, mp3.finish()?));
    }
    if let Some(flac) = flac {
        done.push((Rendition::Flac, flac));
    }
    done.sort_by_key(|(r, _)| wanted.iter().position(|w| w == r));
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::synth::Synth;

    #[test]
    fn one_pass_renders_every_rendition_and_the_same_bytes_every_time() {
        let render_all = || {
            let mut song = Synth::new(5, 2_000);
            render(&mut song, &Rendition::ALL).unwrap()
        };
        let first = render_all();
        assert_eq!(
            first.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
            Rendition::ALL.to_vec()
        );
        for (rendition, bytes) in &first {
            assert!(bytes.len() > 1000, "{rendition:?} has content");
        }
        assert!(first[2].1.starts_with(b"fLaC"));
        assert_eq!(first, render_all(), "deterministic");
    }
}
