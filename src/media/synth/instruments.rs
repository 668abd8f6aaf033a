//! The instruments a song is played on: oscillator voices with their gain envelopes, and
//! the drums.

use super::{SAMPLE_RATE, TAU};

pub(super) fn hz(midi: i32) -> f32 {
    440.0 * 2f32.powf((midi - 69) as f32 / 12.0)
}

/// An oscillator with a gain envelope: attack, then exponential decay towards `sustain`,
/// then a release once the note's length has passed.
#[derive(Debug, Clone, Default)]
pub(super) struct Voice {
    freq: f32,
    phase: f32,
    age: u32,
    length: u32,
    gain: f32,
    attack: u32,
    decay: f32,
    sustain: f32,
    level: f32,
    /// One-pole low-pass state, for the pad's soft saw.
    pub(super) low: f32,
}

impl Voice {
    pub(super) fn start(
        &mut self,
        freq: f32,
        length: u32,
        gain: f32,
        attack: u32,
        decay: f32,
        sustain: f32,
    ) {
        *self = Voice {
            freq,
            phase: self.phase,
            length,
            gain,
            attack: attack.max(1),
            decay,
            sustain,
            level: 0.0,
            low: self.low,
            age: 0,
        };
    }

    /// The envelope's next value, 0 once the note has died away.
    pub(super) fn envelope(&mut self) -> f32 {
        let age = self.age;
        self.age = self.age.saturating_add(1);
        if age < self.attack {
            self.level = age as f32 / self.attack as f32;
        } else if age < self.length {
            self.level = self.sustain + (self.level - self.sustain) * self.decay;
        } else {
            // About 30 ms of release at 44.1 kHz.
            self.level *= 0.9985;
        }
        self.level * self.gain
    }

    pub(super) fn advance(&mut self) -> f32 {
        self.phase += self.freq / SAMPLE_RATE as f32;
        self.phase -= self.phase.floor();
        self.phase
    }
}

/// Percussion: a pitch-dropping sine (kick) and filtered noise bursts (hat and snare).
#[derive(Debug, Clone, Default)]
pub(super) struct Drums {
    pub(super) kick_age: Option<u32>,
    pub(super) kick_phase: f32,
    pub(super) hat_age: Option<u32>,
    pub(super) snare_age: Option<u32>,
    pub(super) noise: u32,
    pub(super) last_noise: f32,
}

impl Drums {
    fn noise(&mut self) -> f32 {
        // xorshift32: cheap, and the same on every machine.
        self.noise ^= self.noise << 13;
        self.noise ^= self.noise >> 17;
        self.noise ^= self.noise << 5;
        (self.noise as f32 / u32::MAX as f32) * 2.0 - 1.0
    }

    pub(super) fn sample(&mut self) -> f32 {
        let mut out = 0.0;
        if let Some(age) = self.kick_age.as_mut() {
            let t = *age as f32 / SAMPLE_RATE as f32;
            let freq = 50.0 + 90.0 * (-t * 30.0).exp();
            self.kick_phase = (self.kick_phase + freq / SAMPLE_RATE as f32).fract();
            out += (self.kick_phase * TAU).sin() * (-t * 9.0).exp() * 0.45;
            *age += 1;
            if t > 0.5 {
                self.kick_age = None;
            }
        }
        let white = self.noise();
        // A first difference is a cheap high-pass: hats are bright, snares less so.
        let bright = white - self.last_noise;
        self.last_noise = white;
        if let Some(age) = self.hat_age.as_mut() {
            let t = *age as f32 / SAMPLE_RATE as f32;
            out += bright * (-t * 60.0).exp() * 0.05;
            *age += 1;
            if t > 0.1 {
                self.hat_age = None;
            }
        }
        if let Some(age) = self.snare_age.as_mut() {
            let t = *age as f32 / SAMPLE_RATE as f32;
            out += (white * 0.7 + bright * 0.3) * (-t * 22.0).exp() * 0.14;
            *age += 1;
            if t > 0.3 {
                self.snare_age = None;
            }
        }
        out
    }
}
