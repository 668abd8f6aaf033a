//! Writing a plan: every table's rows, with tracks, invoice lines and playlist entries
//! generated as they are written, and the seeded accounts.

use anyhow::Context;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::draw::{email, normal, person, pick, title};
use super::vocabulary::{
    GENRES, MEDIA_TYPES, PLACES, STAFF, SUPPORT_AGENTS, VIDEO_MEDIA_TYPE, WORDS,
};
use super::{
    Plan, CUSTOMER_COLUMNS, EMPLOYEE_COLUMNS, INVOICE_COLUMNS, INVOICE_LINE_COLUMNS,
    PLAYLIST_TRACK_COLUMNS, TRACK_COLUMNS,
};
use crate::db::{Connected, Counted};
use crate::progress::Progress;
use crate::seed::rows::{write_named, BatchInsert, Value};
use crate::seed::{AccountSeed, ACCOUNT_COLUMNS};
use crate::store::Role;

impl Plan {
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
    pub(in crate::seed) async fn write(
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
