//! Generated audio: a short melody per track, deterministic from its id, as 8 kHz 8-bit mono
//! PCM WAV, which every browser plays. Generated, so there is no licensing question.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SAMPLE_RATE: u32 = 8_000;
/// Bytes of the canonical WAV header this module writes.
pub const HEADER_LEN: usize = 44;
pub const CONTENT_TYPE: &str = "audio/wav";

/// A pentatonic scale, in Hz, that sounds pleasant whatever the order.
const SCALE: [f32; 10] = [
    261.63, 293.66, 329.63, 392.00, 440.00, 523.25, 587.33, 659.25, 783.99, 880.00,
];

/// The canonical 44-byte header of an 8-bit mono PCM WAV file with `data_len` sample bytes.
pub fn header(data_len: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.saturating_add(data_len)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&1u16.to_le_bytes()); // mono
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&SAMPLE_RATE.to_le_bytes()); // bytes per second
    h[32..34].copy_from_slice(&1u16.to_le_bytes()); // block align
    h[34..36].copy_from_slice(&8u16.to_le_bytes()); // bits per sample
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

/// Whether `bytes` start like a file this module wrote, so its samples start at 44.
pub fn is_canonical(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN
        && &bytes[0..4] == b"RIFF"
        && &bytes[8..16] == b"WAVEfmt "
        && bytes[22..24] == 1u16.to_le_bytes()
        && bytes[24..28] == SAMPLE_RATE.to_le_bytes()
        && bytes[34..36] == 8u16.to_le_bytes()
        && &bytes[36..40] == b"data"
}

/// Sample bytes in `milliseconds` of audio.
pub fn data_len(milliseconds: u64) -> u64 {
    milliseconds * u64::from(SAMPLE_RATE) / 1000
}

/// A whole WAV file for a track: a melody of quarter-second notes with soft edges.
pub fn melody(track_id: i64, milliseconds: u64) -> Vec<u8> {
    let samples = data_len(milliseconds).min(u64::from(u32::MAX) - 64) as usize;
    let mut out = Vec::with_capacity(HEADER_LEN + samples);
    out.extend_from_slice(&header(samples as u32));
    let mut rng = ChaCha8Rng::seed_from_u64(track_id as u64 ^ 0x5eed_a0d1_0000_0000);
    let note_len = SAMPLE_RATE as usize / 4;
    let mut phase = 0f32;
    let mut frequency = SCALE[0];
    for i in 0..samples {
        let at = i % note_len;
        if at == 0 {
            frequency = SCALE[rng.random_range(0..SCALE.len())];
        }
        // Fade each note in and out over 10 ms, so notes do not click.
        let edge = (SAMPLE_RATE as usize / 100).max(1);
        let envelope = (at.min(note_len - at) as f32 / edge as f32).min(1.0);
        phase += frequency / SAMPLE_RATE as f32;
        if phase >= 1.0 {
            phase -= 1.0;
        }
        let wave = (phase * std::f32::consts::TAU).sin() * 0.6 * envelope;
        out.push((128.0 + wave * 127.0).round().clamp(0.0, 255.0) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_melody_is_a_canonical_wav_of_the_asked_length_and_the_same_every_time() {
        let wav = melody(7, 1500);
        assert!(is_canonical(&wav));
        assert_eq!(wav.len(), HEADER_LEN + 12_000);
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 12_000);
        assert_eq!(wav, melody(7, 1500));
        assert_ne!(wav, melody(8, 1500));
    }
}
