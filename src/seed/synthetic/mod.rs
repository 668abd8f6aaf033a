//! A generated, Chinook-shaped catalog of any size. The same seed gives the same catalog.
//!
//! The shape follows Chinook: about ten tracks an album and 1.3 albums an artist, a long tail
//! of prolific artists, Chinook's genre mix, video genres sold as 1.99 video files, audio at
//! 0.99, four-minute songs, about seven invoices a customer with one to fourteen lines, and
//! the same management hierarchy of eight employees.
//!
//! A plan of the small tables is made first; tracks, invoice lines and playlist entries are
//! then generated while they are written, so memory stays flat at a million tracks.

mod draw;
mod plan;
mod vocabulary;
mod write;

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
