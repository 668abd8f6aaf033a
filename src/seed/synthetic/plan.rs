//! Making the plan: artists, albums, customers, invoices and playlists drawn from the seed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::draw::{person, pick, title, weighted};
use super::vocabulary::{BAND_NOUNS, GENRES, VIDEO_GENRES, VIDEO_MEDIA_TYPE, WORDS};
use super::{Plan, PlannedAlbum, PlannedInvoice};

impl Plan {
    pub fn new(tracks: u64, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);

        let mut artists: Vec<String> = Vec::new();
        let mut albums = Vec::new();
        let mut remaining = tracks;
        let mut albums_left_for_artist = 0u32;
        while remaining > 0 {
            if albums_left_for_artist == 0 {
                // Most artists have one album; a few have many, as in Chinook.
                albums_left_for_artist = match rng.random_range(0..100) {
                    0..=74 => 1,
                    75..=89 => 2,
                    90..=97 => rng.random_range(3..=5),
                    _ => rng.random_range(6..=15),
                };
                let name = match rng.random_range(0..3) {
                    0 => {
                        let (first, last) = person(&mut rng);
                        format!("{first} {last}")
                    }
                    1 => format!(
                        "The {} {}",
                        pick(&mut rng, WORDS),
                        pick(&mut rng, BAND_NOUNS)
                    ),
                    _ => title(&mut rng, 2),
                };
                artists.push(name);
            }
            albums_left_for_artist -= 1;
            let genre_index = weighted(&mut rng, GENRES);
            let genre_id = genre_index as i64 + 1;
            let media_type_id = if VIDEO_GENRES.contains(&genre_id) {
                VIDEO_MEDIA_TYPE
            } else {
                match rng.random_range(0..100) {
                    0..=89 => 1,
                    90..=96 => 2,
                    97..=98 => 5,
                    _ => 4,
                }
            };
            let size = match rng.random_range(0..100) {
                0..=7 => rng.random_range(1..=3),
                8..=96 => rng.random_range(5..=16),
                _ => rng.random_range(17..=30),
            };
            let size = (size as u64).min(remaining) as u32;
            remaining -= size as u64;
            let words = rng.random_range(1..=4);
            albums.push(PlannedAlbum {
                title: title(&mut rng, words),
                artist_id: artists.len() as i64,
                genre_id,
                media_type_id,
                tracks: size,
            });
        }

        // Chinook has 59 customers for 3,503 tracks, each with about seven invoices.
        let customers = (tracks * 59 / 3503).clamp(1, 50_000).max(59.min(tracks));
        let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).expect("a valid date");
        let mut invoices: Vec<PlannedInvoice> = Vec::new();
        for customer_id in 1..=customers as i64 {
            for _ in 0..rng.random_range(4..=10) {
                let day = start + chrono::Days::new(rng.random_range(0..5 * 365));
                let date = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
                invoices.push(PlannedInvoice {
                    customer_id,
                    date: crate::db::timestamp(date),
                    lines: *pick(&mut rng, &[1, 2, 2, 4, 6, 9, 14]),
                });
            }
        }
        // Invoice ids rise with their dates, as in Chinook.
        invoices.sort_by(|a, b| a.date.cmp(&b.date));

        let playlists = (0..(tracks / 200).max(18))
            .map(|_| {
                let name = format!(
                    "{} {}",
                    title(&mut rng, 2),
                    pick(
                        &mut rng,
                        &["Mix", "Classics", "Essentials", "Favourites", "Session"]
                    )
                );
                (name, rng.random_range(5..=60u32).min(tracks as u32))
            })
            .collect();

        Self {
            seed,
            tracks,
            artists,
            albums,
            customers,
            invoices,
            playlists,
        }
    }
}
