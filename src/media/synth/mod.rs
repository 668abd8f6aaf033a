//! Generated music: a short song per track, deterministic from its id, as 44.1 kHz stereo
//! PCM. A key, a mode, a tempo and a four-chord progression are drawn from the track id;
//! a pad plays the chords, a bass line and drums keep time, and a pentatonic melody made of
//! a few phrases repeats the way songs do. Generated, so there is no licensing question.
//!
//! Synthesis is sequential (oscillators keep their phase, filters their state), so a song
//! is rendered front to back in blocks and never held whole in memory.

mod instruments;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::pcm::{PcmSource, Spec};
use instruments::{hz, Drums, Voice};

pub const SAMPLE_RATE: u32 = 44_100;
pub const CHANNELS: u16 = 2;
/// Bumped whenever the music changes, so new songs get new file names and ETags.
pub const VERSION: u32 = 1;

const STEPS_PER_BAR: u64 = 16;
const BARS_PER_SECTION: u64 = 8;
/// Bars before the drums come in.
const INTRO_BARS: u64 = 2;
const TAU: f32 = std::f32::consts::TAU;

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];
/// Scale degrees of the chord roots, one chord a bar.
const PROGRESSIONS: [[usize; 4]; 6] = [
    [0, 4, 5, 3],
    [0, 5, 3, 4],
    [5, 3, 0, 4],
    [0, 3, 4, 3],
    [0, 5, 2, 6],
    [0, 2, 5, 4],
];
/// The pentatonic degrees of each mode: the melody never clashes with a chord.
const MAJOR_PENTATONIC: [usize; 5] = [0, 1, 2, 4, 5];
const MINOR_PENTATONIC: [usize; 5] = [0, 2, 3, 4, 6];
/// Which phrase each section plays: A B A C, like a song's verses and bridge.
const FORM: [usize; 4] = [0, 1, 0, 2];
/// Steps of a bar the bass plays on.
const BASS_STEPS: [u64; 4] = [0, 6, 8, 14];

/// A melody note: its MIDI pitch and how many steps it lasts.
#[derive(Debug, Clone, Copy)]
struct Note {
    pitch: i32,
    steps: u64,
}

/// One track's song, read front to back.
pub struct Synth {
    frames: u64,
    position: u64,
    step_frames: u64,
    root: i32,
    scale: [i32; 7],
    progression: [usize; 4],
    phrases: Vec<Vec<Option<Note>>>,
    melody: Voice,
    pad: [Voice; 3],
    bass: Voice,
    drums: Drums,
    fade_in: u64,
    fade_out: u64,
}

impl Synth {
    /// The song of `track`, `milliseconds` long.
    pub fn new(track: i64, milliseconds: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(track as u64 ^ 0x5eed_a0d1_0000_0000);
        let bpm: u64 = rng.random_range(84..=132);
        let minor = rng.random_bool(0.4);
        let scale = if minor { MINOR } else { MAJOR };
        let pentatonic = if minor {
            MINOR_PENTATONIC
        } else {
            MAJOR_PENTATONIC
        };
        let progression = PROGRESSIONS[rng.random_range(0..PROGRESSIONS.len())];
        let root = rng.random_range(45..=52);
        let phrases = (0..3)
            .map(|_| phrase(&mut rng, root, &scale, &pentatonic))
            .collect();
        let frames = milliseconds * u64::from(SAMPLE_RATE) / 1000;
        Synth {
            frames,
            position: 0,
            step_frames: u64::from(SAMPLE_RATE) * 60 / (bpm * 4),
            root,
            scale,
            progression,
            phrases,
            melody: Voice::default(),
            pad: Default::default(),
            bass: Voice::default(),
            drums: Drums {
                noise: 0x9e37_79b9 ^ track as u32 | 1,
                ..Drums::default()
            },
            fade_in: u64::from(SAMPLE_RATE) / 2,
            fade_out: (frames / 10).min(u64::from(SAMPLE_RATE) * 2),
        }
    }

    fn degree(&self, degree: usize, octave: i32) -> i32 {
        self.root + self.scale[degree % 7] + 12 * (octave + (degree / 7) as i32)
    }

    /// Starts the notes that begin on `step`.
    fn on_step(&mut self, step: u64) {
        let bar = step / STEPS_PER_BAR;
        let at = step % STEPS_PER_BAR;
        let chord = self.progression[(bar % 4) as usize];
        let step_len = self.step_frames as u32;
        if at == 0 {
            for (i, voice) in self.pad.iter_mut().enumerate() {
                let pitch = self.root + self.scale[(chord + 2 * i) % 7] + 12;
                let pitch = pitch + if chord + 2 * i >= 7 { 12 } else { 0 };
                voice.start(hz(pitch), step_len * 15, 0.07, step_len * 3, 0.9999, 0.7);
            }
        }
        if BASS_STEPS.contains(&at) {
            let pitch = self.degree(chord, -1);
            self.bass
                .start(hz(pitch), step_len * 2, 0.24, 60, 0.9997, 0.5);
        }
        if bar >= INTRO_BARS {
            if at.is_multiple_of(8) || (at == 10 && bar % 2 == 1) {
                self.drums.kick_age = Some(0);
            }
            if at.is_multiple_of(2) {
                self.drums.hat_age = Some(0);
            }
            if at == 4 || at == 12 {
                self.drums.snare_age = Some(0);
            }
        }
        let section = bar / BARS_PER_SECTION;
        let phrase = FORM[(section % FORM.len() as u64) as usize];
        let in_phrase = (step % (2 * STEPS_PER_BAR)) as usize;
        if let Some(note) = self.phrases[phrase][in_phrase] {
            // Every fourth phrase ends an octave up, for some variation.
            let lift = if bar % BARS_PER_SECTION >= 6 && in_phrase >= 16 {
                12
            } else {
                0
            };
            self.melody.start(
                hz(note.pitch + lift),
                step_len * note.steps as u32,
                0.22,
                200,
                0.9996,
                0.6,
            );
        }
    }

    /// One stereo frame, as floats around ±1.
    fn frame(&mut self) -> (f32, f32) {
        let mut left = 0.0;
        let mut right = 0.0;
        let env = self.melody.envelope();
        let phase = self.melody.advance();
        let lead = ((phase * TAU).sin() + 0.25 * (phase * 2.0 * TAU).sin()) * env;
        left += lead * 0.45;
        right += lead * 0.8;
        for (i, voice) in self.pad.iter_mut().enumerate() {
            let env = voice.envelope();
            let saw = voice.advance() * 2.0 - 1.0;
            voice.low += (saw - voice.low) * 0.08;
            let tone = voice.low * env;
            let (l, r) = [(0.9, 0.4), (0.65, 0.65), (0.4, 0.9)][i];
            left += tone * l;
            right += tone * r;
        }
        let env = self.bass.envelope();
        let p = self.bass.advance();
        let triangle = 1.0 - 4.0 * (p - 0.5).abs();
        let bass = triangle * env;
        left += bass;
        right += bass;
        let drums = self.drums.sample();
        left += drums;
        right += drums;
        (left, right)
    }

    fn fade(&self, at: u64) -> f32 {
        let mut gain = 1.0;
        if at < self.fade_in {
            gain *= at as f32 / self.fade_in as f32;
        }
        let left = self.frames - at;
        if left < self.fade_out {
            gain *= left as f32 / self.fade_out as f32;
        }
        gain
    }
}

/// A two-bar phrase: notes on the pentatonic scale, a random walk that favours small steps,
/// denser on the beat than off it.
fn phrase(
    rng: &mut ChaCha8Rng,
    root: i32,
    scale: &[i32; 7],
    pentatonic: &[usize; 5],
) -> Vec<Option<Note>> {
    let steps = 2 * STEPS_PER_BAR as usize;
    let mut onsets: Vec<usize> = (0..steps)
        .filter(|&s| {
            let chance = match s % 4 {
                0 => 0.85,
                2 => 0.45,
                _ => 0.12,
            };
            rng.random_bool(chance)
        })
        .collect();
    if onsets.first() != Some(&0) {
        onsets.insert(0, 0);
    }
    let mut place: i32 = rng.random_range(5..9);
    let mut out = vec![None; steps];
    for (i, &at) in onsets.iter().enumerate() {
        let next = onsets.get(i + 1).copied().unwrap_or(steps);
        place = (place + rng.random_range(-2..=2)).clamp(3, 11);
        let index = place as usize;
        let degree = pentatonic[index % 5];
        let octave = (index / 5) as i32;
        let pitch = root + 12 + scale[degree] + 12 * octave;
        out[at] = Some(Note {
            pitch,
            steps: (next - at).min(4) as u64,
        });
    }
    out
}

impl PcmSource for Synth {
    fn spec(&self) -> Spec {
        Spec {
            sample_rate: SAMPLE_RATE,
            channels: CHANNELS,
        }
    }

    fn read(&mut self, out: &mut Vec<i16>, frames: usize) -> anyhow::Result<usize> {
        out.clear();
        let take = (self.frames - self.position).min(frames as u64);
        for _ in 0..take {
            let at = self.position;
            if at.is_multiple_of(self.step_frames) {
                self.on_step(at / self.step_frames);
            }
            let (left, right) = self.frame();
            let gain = self.fade(at) * 0.8;
            for sample in [left, right] {
                // A soft clip: loud moments round off instead of wrapping.
                let x = (sample * gain).clamp(-3.0, 3.0);
                let soft = x * (27.0 + x * x) / (27.0 + 9.0 * x * x);
                out.push((soft * f32::from(i16::MAX)) as i16);
            }
            self.position += 1;
        }
        Ok(take as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(track: i64, milliseconds: u64) -> Vec<i16> {
        let mut synth = Synth::new(track, milliseconds);
        let (mut all, mut block) = (Vec::new(), Vec::new());
        while synth.read(&mut block, 4096).unwrap() > 0 {
            all.extend_from_slice(&block);
        }
        all
    }

    #[test]
    fn a_song_has_the_asked_length_is_the_same_every_time_and_differs_by_track() {
        let song = render(7, 1500);
        assert_eq!(song.len(), 2 * 66_150);
        assert_eq!(song, render(7, 1500));
        assert_ne!(song, render(8, 1500));
    }

    #[test]
    fn a_song_is_stereo_audible_and_never_clips() {
        let song = render(3, 6000);
        let (left, right): (Vec<i16>, Vec<i16>) =
            song.chunks(2).map(|frame| (frame[0], frame[1])).unzip();
        assert_ne!(left, right, "the channels differ: the voices are panned");
        let rms =
            (song.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / song.len() as f64).sqrt();
        assert!(rms > 1000.0, "audible: rms {rms}");
        assert!(song.iter().all(|&s| s > i16::MIN && s < i16::MAX));
    }
}
