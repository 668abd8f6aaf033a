//! A generated, Chinook-shaped catalog of any size. The same seed gives the same catalog.
//!
//! The shape follows Chinook: about ten tracks an album and 1.3 albums an artist, a long tail
//! of prolific artists, Chinook's genre mix, video genres sold as 1.99 video files, audio at
//! 0.99, four-minute songs, about seven invoices a customer with one to fourteen lines, and
//! the same management hierarchy of eight employees.
//!
//! A plan of the small tables is made first; tracks, invoice lines and playlist entries are
//! then generated while they are written, so memory stays flat at a million tracks.

use anyhow::Context;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::rows::{write_named, BatchInsert, Value};
use super::{AccountSeed, ACCOUNT_COLUMNS};
use crate::db::{Connected, Counted};
use crate::progress::Progress;
use crate::store::Role;

pub const DEFAULT_SEED: u64 = 1;

pub(super) const TRACK_COLUMNS: &[&str] = &[
    "track_id",
    "name",
    "album_id",
    "media_type_id",
    "genre_id",
    "composer",
    "milliseconds",
    "bytes",
    "unit_price_cents",
];
pub(super) const EMPLOYEE_COLUMNS: &[&str] = &[
    "employee_id",
    "last_name",
    "first_name",
    "title",
    "reports_to",
    "birth_date",
    "hire_date",
    "address",
    "city",
    "state",
    "country",
    "postal_code",
    "phone",
    "fax",
    "email",
];
pub(super) const CUSTOMER_COLUMNS: &[&str] = &[
    "customer_id",
    "first_name",
    "last_name",
    "company",
    "address",
    "city",
    "state",
    "country",
    "postal_code",
    "phone",
    "fax",
    "email",
    "support_rep_id",
];
pub(super) const INVOICE_COLUMNS: &[&str] = &[
    "invoice_id",
    "customer_id",
    "invoice_date",
    "billing_address",
    "billing_city",
    "billing_state",
    "billing_country",
    "billing_postal_code",
    "total_cents",
];
pub(super) const INVOICE_LINE_COLUMNS: &[&str] = &[
    "invoice_line_id",
    "invoice_id",
    "track_id",
    "unit_price_cents",
    "quantity",
];
pub(super) const PLAYLIST_TRACK_COLUMNS: &[&str] = &["playlist_id", "position", "track_id"];

/// Chinook's genres with their share of its tracks.
const GENRES: &[(&str, u32)] = &[
    ("Rock", 1297),
    ("Jazz", 130),
    ("Metal", 374),
    ("Alternative & Punk", 332),
    ("Rock And Roll", 12),
    ("Blues", 81),
    ("Latin", 579),
    ("Reggae", 58),
    ("Pop", 48),
    ("Soundtrack", 43),
    ("Bossa Nova", 15),
    ("Easy Listening", 24),
    ("Heavy Metal", 28),
    ("R&B/Soul", 61),
    ("Electronica/Dance", 30),
    ("World", 28),
    ("Hip Hop/Rap", 35),
    ("Science Fiction", 13),
    ("TV Shows", 93),
    ("Sci Fi & Fantasy", 26),
    ("Drama", 64),
    ("Comedy", 17),
    ("Alternative", 40),
    ("Classical", 74),
    ("Opera", 1),
];
/// Genre ids (1-based, as above) sold as video episodes.
const VIDEO_GENRES: &[i64] = &[18, 19, 20, 21, 22];
const MEDIA_TYPES: &[&str] = &[
    "MPEG audio file",
    "Protected AAC audio file",
    "Protected MPEG-4 video file",
    "Purchased AAC audio file",
    "AAC audio file",
];
const VIDEO_MEDIA_TYPE: i64 = 3;

const FIRST_NAMES: &[&str] = &[
    "Luís",
    "Leonie",
    "François",
    "Bjørn",
    "František",
    "Helena",
    "Astrid",
    "Daan",
    "Kara",
    "Eduardo",
    "Alexandre",
    "Roberto",
    "Fernanda",
    "Mark",
    "Jennifer",
    "Frank",
    "Jack",
    "Michelle",
    "Tim",
    "Dan",
    "Kathy",
    "Heather",
    "John",
    "Robert",
    "Edward",
    "Ellie",
    "Martha",
    "Aaron",
    "Madalena",
    "Hannah",
    "Niklas",
    "Camille",
    "Dominique",
    "Marc",
    "Wyatt",
    "Isabelle",
    "Ladislav",
    "Hugh",
    "Lucas",
    "Johannes",
    "Stanisław",
    "Enrique",
    "Joakim",
    "Emma",
    "Phil",
    "Steve",
    "Mark",
    "Diego",
    "Luis",
    "Manoj",
    "Puja",
    "João",
    "Inês",
    "Zoë",
    "Søren",
];
const LAST_NAMES: &[&str] = &[
    "Gonçalves",
    "Köhler",
    "Tremblay",
    "Hansen",
    "Wichterlová",
    "Holý",
    "Gruber",
    "Peeters",
    "Nielsen",
    "Martins",
    "Rocha",
    "Almeida",
    "Ramos",
    "Philips",
    "Peterson",
    "Harris",
    "Smith",
    "Brooks",
    "Goyer",
    "Miller",
    "Chase",
    "Gordon",
    "Van Stevens",
    "Mitchell",
    "Sullivan",
    "Murray",
    "Silk",
    "Fernandes",
    "Sampaio",
    "Schneider",
    "Zimmermann",
    "Dubois",
    "Lefebvre",
    "Girard",
    "Mercier",
    "Bernard",
    "Kovács",
    "Rossi",
    "Gutiérrez",
    "Muñoz",
    "Srivastava",
    "Pareek",
    "Van der Berg",
    "Johansson",
    "Jones",
    "Taylor",
    "Brown",
    "Kowalski",
    "Andersson",
    "Lindqvist",
];
const WORDS: &[&str] = &[
    "Midnight",
    "Velvet",
    "Electric",
    "Golden",
    "Broken",
    "Silent",
    "Crimson",
    "Wild",
    "Burning",
    "Hollow",
    "Neon",
    "Lonely",
    "Frozen",
    "Restless",
    "Sweet",
    "Dark",
    "Blue",
    "Endless",
    "Paper",
    "Iron",
    "River",
    "Heart",
    "Storm",
    "Highway",
    "Dream",
    "Fire",
    "Shadow",
    "Sky",
    "Ocean",
    "Machine",
    "Garden",
    "Thunder",
    "Mirror",
    "Kingdom",
    "Rain",
    "Stone",
    "City",
    "Angel",
    "Ghost",
    "Road",
    "Summer",
    "Winter",
    "Light",
    "Soul",
    "Mountain",
    "Desert",
    "Wolf",
    "Rose",
    "Echo",
    "Saudade",
    "Coração",
    "Noite",
    "Canção",
    "Amor",
    "Sol",
    "Mar",
    "Lua",
];
const BAND_NOUNS: &[&str] = &[
    "Riders",
    "Kings",
    "Saints",
    "Brothers",
    "Orchestra",
    "Quartet",
    "Collective",
    "Band",
    "Experience",
    "Project",
    "Sound",
    "Trio",
    "Ensemble",
    "Machine",
    "Society",
    "Club",
];
/// Chinook's countries, each with one city, state and postal code to bill to.
const PLACES: &[(&str, &str, Option<&str>, &str)] = &[
    ("Brazil", "São Paulo", Some("SP"), "01007-010"),
    ("Germany", "Berlin", None, "10789"),
    ("Canada", "Montréal", Some("QC"), "H2G 1A7"),
    ("Norway", "Oslo", None, "0171"),
    ("Czech Republic", "Prague", None, "14700"),
    ("Austria", "Vienne", None, "1010"),
    ("Belgium", "Brussels", None, "1000"),
    ("Denmark", "Copenhagen", None, "1720"),
    ("USA", "Mountain View", Some("CA"), "94040-111"),
    ("Portugal", "Lisbon", None, "1169-017"),
    ("France", "Paris", None, "75002"),
    ("Finland", "Helsinki", None, "00530"),
    ("Hungary", "Budapest", None, "H-1073"),
    ("Ireland", "Dublin", Some("Dublin"), "D02 X285"),
    ("Italy", "Rome", Some("RM"), "00192"),
    ("Netherlands", "Amsterdam", Some("VV"), "1016"),
    ("Poland", "Warsaw", None, "00-358"),
    ("Spain", "Madrid", None, "28015"),
    ("Sweden", "Stockholm", None, "11230"),
    ("United Kingdom", "London", None, "SW1V 3EN"),
    ("Australia", "Sidney", Some("NSW"), "2010"),
    ("Argentina", "Buenos Aires", None, "1106"),
    ("Chile", "Santiago", None, "8320000"),
    ("India", "Delhi", None, "110017"),
];
/// Chinook's hierarchy: (title, reports_to).
const STAFF: &[(&str, Option<i64>)] = &[
    ("General Manager", None),
    ("Sales Manager", Some(1)),
    ("Sales Support Agent", Some(2)),
    ("Sales Support Agent", Some(2)),
    ("Sales Support Agent", Some(2)),
    ("IT Manager", Some(1)),
    ("IT Staff", Some(6)),
    ("IT Staff", Some(6)),
];
const SUPPORT_AGENTS: &[i64] = &[3, 4, 5];

struct PlannedAlbum {
    title: String,
    artist_id: i64,
    genre_id: i64,
    media_type_id: i64,
    tracks: u32,
}

struct PlannedInvoice {
    customer_id: i64,
    date: String,
    lines: u32,
}

/// The catalog's small tables, fixed before anything is written.
pub struct Plan {
    seed: u64,
    tracks: u64,
    artists: Vec<String>,
    albums: Vec<PlannedAlbum>,
    customers: u64,
    invoices: Vec<PlannedInvoice>,
    playlists: Vec<(String, u32)>,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn weighted(rng: &mut ChaCha8Rng, weights: &[(&str, u32)]) -> usize {
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (i, (_, w)) in weights.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

/// A normally distributed sample (Box–Muller), enough for durations.
fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn title(rng: &mut ChaCha8Rng, words: usize) -> String {
    (0..words)
        .map(|_| *pick(rng, WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

fn person(rng: &mut ChaCha8Rng) -> (String, String) {
    (
        pick(rng, FIRST_NAMES).to_string(),
        pick(rng, LAST_NAMES).to_string(),
    )
}

/// An email address from a name: accents folded, spaces dropped, made unique by `n`.
fn email(first: &str, last: &str, n: i64, domain: &str) -> String {
    let fold = |s: &str| -> String {
        s.chars()
            .filter_map(|c| match c {
                'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => Some('a'),
                'é' | 'è' | 'ê' | 'ë' => Some('e'),
                'í' | 'ì' | 'î' | 'ï' => Some('i'),
                'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'ø' => Some('o'),
                'ú' | 'ù' | 'û' | 'ü' => Some('u'),
                'ç' => Some('c'),
                'ñ' => Some('n'),
                'ł' => Some('l'),
                'ś' => Some('s'),
                'ý' => Some('y'),
                c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    };
    let first = fold(&first.to_lowercase());
    let last = fold(&last.to_lowercase());
    format!("{first}.{last}{n}@{domain}")
}

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

    fn row_count(&self) -> u64 {
        let lines: u64 = self.invoices.iter().map(|i| i.lines as u64).sum();
        let entries: u64 = self.playlists.iter().map(|p| p.1 as u64).sum();
        (GENRES.len() + MEDIA_TYPES.len() + self.artists.len() + self.albums.len()) as u64
            + self.tracks
            + 2 * (STAFF.len() as u64 + self.customers)
            + self.invoices.len() as u64
            + lines
            + self.playlists.len() as u64
            + entries
    }

    /// Writes the catalog inside the caller's transaction.
    pub(super) async fn write(
        self,
        conn: &mut Counted<impl Connected>,
        accounts: &AccountSeed,
        interactive: bool,
    ) -> anyhow::Result<()> {
        let progress = Progress::new(
            format!("generating {} tracks", self.tracks),
            self.row_count(),
            interactive,
        );
        // A second stream for the rows generated while writing, so the plan stays unchanged.
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15));

        let ids = 1i64..;
        let genres = ids.clone().zip(GENRES.iter().map(|(name, _)| *name));
        write_named(conn, "genre", &["genre_id", "name"], genres, &progress).await?;
        let media = ids.clone().zip(MEDIA_TYPES.iter().copied());
        write_named(
            conn,
            "media_type",
            &["media_type_id", "name"],
            media,
            &progress,
        )
        .await?;
        let artists = ids.clone().zip(self.artists.iter().map(String::as_str));
        write_named(conn, "artist", &["artist_id", "name"], artists, &progress).await?;

        let mut albums = BatchInsert::new("album", &["album_id", "title", "artist_id"]);
        for (i, album) in self.albums.iter().enumerate() {
            let row = vec![
                (i as i64 + 1).into(),
                album.title.as_str().into(),
                album.artist_id.into(),
            ];
            albums.push(conn, row, &progress).await?;
        }
        albums.finish(conn, &progress).await?;

        // Prices by track id (index 0 unused), for the invoice lines below.
        let mut prices: Vec<u8> = Vec::with_capacity(self.tracks as usize + 1);
        prices.push(0);
        let mut tracks = BatchInsert::new("track", TRACK_COLUMNS);
        let mut track_id = 0i64;
        for (i, album) in self.albums.iter().enumerate() {
            let video = album.media_type_id == VIDEO_MEDIA_TYPE;
            let long_form = album.genre_id == 24 || album.genre_id == 25;
            for _ in 0..album.tracks {
                track_id += 1;
                let minutes: f64 = if video {
                    normal(&mut rng, 44.0, 8.0).clamp(18.0, 90.0)
                } else if long_form {
                    normal(&mut rng, 1.8, 0.5).exp().clamp(1.0, 30.0)
                } else {
                    normal(&mut rng, 1.35, 0.3).exp().clamp(0.5, 20.0)
                };
                let ms = (minutes * 60_000.0) as i64;
                let bytes = if video { ms * 500 } else { ms * 32 } + rng.random_range(0..4096);
                let price: i64 = if video { 199 } else { 99 };
                prices.push(if video { 2 } else { 1 });
                let composer: Option<String> = if rng.random_range(0..10) < 7 {
                    let (first, last) = person(&mut rng);
                    Some(format!("{first} {last}"))
                } else {
                    None
                };
                let words = rng.random_range(1..=5);
                let row: Vec<Value> = vec![
                    track_id.into(),
                    title(&mut rng, words).into(),
                    (i as i64 + 1).into(),
                    album.media_type_id.into(),
                    album.genre_id.into(),
                    composer.into(),
                    ms.into(),
                    bytes.into(),
                    price.into(),
                ];
                tracks.push(conn, row, &progress).await?;
            }
        }
        tracks.finish(conn, &progress).await?;
        let price_of = |id: i64| -> i64 {
            if prices[id as usize] == 2 {
                199
            } else {
                99
            }
        };

        let mut employees = BatchInsert::new("employee", EMPLOYEE_COLUMNS);
        let mut staff_accounts = Vec::new();
        for (i, (job, boss)) in STAFF.iter().enumerate() {
            let id = i as i64 + 1;
            let (first, last) = person(&mut rng);
            let address = format!(
                "{} {} Ave",
                rng.random_range(1..9999),
                pick(&mut rng, WORDS)
            );
            let mail = email(&first, &last, id, "chinookcorp.com");
            staff_accounts.push((mail.clone(), Role::for_employee_title(Some(job)), id));
            let row: Vec<Value> = vec![
                id.into(),
                last.into(),
                first.into(),
                (*job).into(),
                (*boss).into(),
                "1970-01-01T00:00:00Z".into(),
                "2020-01-01T00:00:00Z".into(),
                address.into(),
                "Calgary".into(),
                "AB".into(),
                "Canada".into(),
                "T2P 2T3".into(),
                "+1 (403) 262-3443".into(),
                "+1 (403) 262-3322".into(),
                mail.into(),
            ];
            employees.push(conn, row, &progress).await?;
        }
        employees.finish(conn, &progress).await?;

        let mut customers = BatchInsert::new("customer", CUSTOMER_COLUMNS);
        let mut places = Vec::with_capacity(self.customers as usize);
        let mut customer_accounts = Vec::with_capacity(self.customers as usize);
        for id in 1..=self.customers as i64 {
            let (first, last) = person(&mut rng);
            let place = pick(&mut rng, PLACES);
            let address = format!(
                "{} {} Street",
                rng.random_range(1..999),
                pick(&mut rng, WORDS)
            );
            let mail = email(&first, &last, id, "example.com");
            customer_accounts.push((mail.clone(), id));
            let company: Option<String> = (rng.random_range(0..5) == 0).then(|| {
                format!(
                    "{} {}",
                    pick(&mut rng, WORDS),
                    pick(&mut rng, &["Ltd", "GmbH", "S.A.", "Inc."])
                )
            });
            let row: Vec<Value> = vec![
                id.into(),
                first.into(),
                last.into(),
                company.into(),
                address.clone().into(),
                place.1.into(),
                place.2.map(str::to_string).into(),
                place.0.into(),
                place.3.into(),
                format!("+1 555 {:04}", id % 10_000).into(),
                Option::<String>::None.into(),
                mail.into(),
                (*pick(&mut rng, SUPPORT_AGENTS)).into(),
            ];
            places.push((address, place));
            customers.push(conn, row, &progress).await?;
        }
        customers.finish(conn, &progress).await?;

        // Lines are drawn first so each invoice's total is their exact sum; all invoices are
        // written before any line, since a line's invoice must exist when its batch lands.
        let mut drawn: Vec<i64> = Vec::new();
        let mut invoices = BatchInsert::new("invoice", INVOICE_COLUMNS);
        for (i, invoice) in self.invoices.iter().enumerate() {
            let first_line = drawn.len();
            drawn.extend((0..invoice.lines).map(|_| rng.random_range(1..=self.tracks as i64)));
            let total: i64 = drawn[first_line..].iter().map(|&t| price_of(t)).sum();
            let (address, place) = &places[invoice.customer_id as usize - 1];
            let row: Vec<Value> = vec![
                (i as i64 + 1).into(),
                invoice.customer_id.into(),
                invoice.date.as_str().into(),
                address.as_str().into(),
                place.1.into(),
                place.2.map(str::to_string).into(),
                place.0.into(),
                place.3.into(),
                total.into(),
            ];
            invoices.push(conn, row, &progress).await?;
        }
        invoices.finish(conn, &progress).await?;
        let mut lines = BatchInsert::new("invoice_line", INVOICE_LINE_COLUMNS);
        let mut drawn = drawn.into_iter();
        let mut line_id = 0i64;
        for (i, invoice) in self.invoices.iter().enumerate() {
            for track in drawn.by_ref().take(invoice.lines as usize) {
                line_id += 1;
                let row = vec![
                    line_id.into(),
                    (i as i64 + 1).into(),
                    track.into(),
                    price_of(track).into(),
                    1i64.into(),
                ];
                lines.push(conn, row, &progress).await?;
            }
        }
        lines.finish(conn, &progress).await?;

        let playlists = ids.zip(self.playlists.iter().map(|(name, _)| name.as_str()));
        write_named(
            conn,
            "playlist",
            &["playlist_id", "name"],
            playlists,
            &progress,
        )
        .await?;
        let mut entries = BatchInsert::new("playlist_track", PLAYLIST_TRACK_COLUMNS);
        for (i, (_, size)) in self.playlists.iter().enumerate() {
            for position in 1..=*size as i64 {
                let track = rng.random_range(1..=self.tracks as i64);
                let row = vec![(i as i64 + 1).into(), position.into(), track.into()];
                entries.push(conn, row, &progress).await?;
            }
        }
        entries.finish(conn, &progress).await?;

        let mut logins = BatchInsert::new("account", ACCOUNT_COLUMNS);
        for (mail, id) in &customer_accounts {
            logins
                .push(
                    conn,
                    accounts.row(mail, Role::Customer, Some(*id), None),
                    &progress,
                )
                .await?;
        }
        for (mail, role, id) in &staff_accounts {
            logins
                .push(conn, accounts.row(mail, *role, None, Some(*id)), &progress)
                .await?;
        }
        logins
            .finish(conn, &progress)
            .await
            .context("writing accounts failed")?;
        progress.finish();
        Ok(())
    }
}
