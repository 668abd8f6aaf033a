//! The index schema: one document per catalog entry, with its JSON representation stored,
//! folded text for search, and fast fields for filters and sorts.

use std::path::Path;

use anyhow::Context;
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer, ValueVisitor,
};
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::{Index, TantivyDocument};

use crate::catalog::{Entry, Kind, Record};

/// Bumped whenever fields, their options or the index format change; an index of another
/// version is rebuilt. 11: string dictionaries without zstd. 12: tracks' numeric orders
/// within their genre. 13: the body is each document's first stored value.
pub const SCHEMA_VERSION: u32 = 13;

/// The words search matches (see `model::words::search_analyzer`).
pub const TOKENIZER: &str = "words";

/// Numeric fast fields, each also indexed for exact filters.
pub const FAST_U64_FIELDS: [&str; 10] = [
    "kind",
    "id",
    "artist_id",
    "album_id",
    "genre_id",
    "media_type_id",
    "price_cents",
    "milliseconds",
    "popularity",
    // The ids of the taxonomy terms attached to a track, album or artist (many per entry).
    "term_id",
];

#[derive(Clone)]
pub struct CatalogSchema {
    /// `kind` and `id` in one term, the unique key of a document.
    pub key: Field,
    pub name: Field,
    pub artist: Field,
    pub album: Field,
    pub composer: Field,
    pub body: Field,
    pub name_sort: Field,
    pub name_exact: Field,
    /// The joined forms of the name's neighbouring words (see `model::words::joined_forms`).
    pub name_joined: Field,
    /// The joined forms of the artist's and album's words.
    pub context_joined: Field,
    pub members: Field,
    /// Hierarchical facets of the attached terms, `/type/root/…/slug`.
    pub taxonomy: Field,
    /// Each entry's place in every order its lists offer (see `list::order`).
    pub order: Field,
    numbers: Vec<Field>,
}

/// The unique key of an entry.
pub fn key(kind: Kind, id: u64) -> u64 {
    (kind.code() << 48) | id
}

pub fn register_tokenizers(index: &Index) {
    index
        .tokenizers()
        .register(TOKENIZER, crate::model::words::search_analyzer());
}

fn build_schema() -> Schema {
    let mut builder = Schema::builder();
    builder.add_u64_field("key", INDEXED);
    let text = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    builder.add_text_field("name", text.clone());
    builder.add_text_field("artist", text.clone());
    builder.add_text_field("album", text.clone());
    builder.add_text_field("composer", text);
    builder.add_text_field("body", STORED);
    // A playlist's track ids in order, as JSON.
    builder.add_text_field("members", STORED);
    // The whole folded name as one term, so a query that is (nearly) the entire name ranks
    // above names that merely contain its words.
    builder.add_text_field("name_exact", STRING);
    // Each joined form is one term; frequencies let BM25 weigh them like words.
    let joined = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tantivy::tokenizer::RAW_TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    builder.add_text_field("name_joined", joined.clone());
    builder.add_text_field("context_joined", joined);
    // The sort key of the name, as a column: lists sort by it.
    builder.add_text_field(
        "name_sort",
        TextOptions::default().set_fast(tantivy::tokenizer::RAW_TOKENIZER_NAME),
    );
    // Indexing a facet indexes each of its ancestors too, so a term filter takes in its
    // descendants with one posting list.
    builder.add_facet_field("taxonomy", FacetOptions::default());
    builder.add_bytes_field("order", INDEXED);
    for name in FAST_U64_FIELDS {
        // The kind is also stored: search hits need it to say what they are.
        let options: NumericOptions = if name == "kind" {
            (INDEXED | FAST | STORED).into()
        } else {
            (INDEXED | FAST).into()
        };
        builder.add_u64_field(name, options);
    }
    builder.build()
}

impl CatalogSchema {
    /// A new, empty index in `dir`.
    pub fn create(dir: &Path) -> anyhow::Result<(Index, Self)> {
        let index = Index::create_in_dir(dir, build_schema())
            .with_context(|| format!("cannot create an index in {}", dir.display()))?;
        register_tokenizers(&index);
        let schema = Self::from(index.schema())?;
        Ok((index, schema))
    }

    /// The fields of an opened index; fails when it is not of this schema.
    pub fn from(schema: Schema) -> anyhow::Result<Self> {
        let field = |name: &str| {
            schema
                .get_field(name)
                .with_context(|| format!("the index has no field {name}"))
        };
        Ok(Self {
            key: field("key")?,
            name: field("name")?,
            artist: field("artist")?,
            album: field("album")?,
            composer: field("composer")?,
            body: field("body")?,
            name_sort: field("name_sort")?,
            name_exact: field("name_exact")?,
            name_joined: field("name_joined")?,
            context_joined: field("context_joined")?,
            members: field("members")?,
            taxonomy: field("taxonomy")?,
            order: field("order")?,
            numbers: FAST_U64_FIELDS
                .iter()
                .map(|name| field(name))
                .collect::<anyhow::Result<_>>()?,
        })
    }

    /// Fields with a term dictionary, which warm-up walks.
    pub fn indexed_fields(&self) -> Vec<Field> {
        let mut fields = vec![
            self.key,
            self.name,
            self.artist,
            self.album,
            self.composer,
            self.name_joined,
            self.context_joined,
            self.taxonomy,
            self.order,
        ];
        fields.extend(&self.numbers);
        fields
    }

    pub fn field(&self, name: &str) -> Field {
        self.number(name)
    }

    fn number(&self, name: &str) -> Field {
        let at = FAST_U64_FIELDS
            .iter()
            .position(|n| *n == name)
            .expect("a known numeric field");
        self.numbers[at]
    }

    pub fn document(&self, record: &Record) -> TantivyDocument {
        let entry = &record.entry;
        let mut doc = TantivyDocument::default();
        // First, so that reading an entry's JSON stops there (`FirstStored`).
        doc.add_text(self.body, entry.to_json());
        for (id, facet) in &record.terms {
            doc.add_u64(self.number("term_id"), (*id).max(0) as u64);
            doc.add_facet(
                self.taxonomy,
                Facet::from_text(facet).unwrap_or_else(|_| Facet::root()),
            );
        }
        let id = entry.id().max(0) as u64;
        doc.add_u64(self.key, key(entry.kind(), id));
        doc.add_u64(self.number("kind"), entry.kind().code());
        doc.add_u64(self.number("id"), id);
        // Only what search returns has searchable text, so a search needs no kind filter
        // unless it asks for one.
        if matches!(
            entry,
            Entry::Track(..) | Entry::Album(..) | Entry::Artist(_)
        ) {
            doc.add_text(self.name, entry.name());
            // With its spaces and without, so "acdc" is as much the whole name as "ac dc".
            let whole = crate::model::words::words_of(entry.name());
            doc.add_text(self.name_exact, whole.join(" "));
            if whole.len() > 1 {
                doc.add_text(self.name_exact, whole.concat());
                let typed = crate::model::words::as_typed(entry.name()).concat();
                if typed != whole.concat() {
                    doc.add_text(self.name_exact, typed);
                }
            }
            for form in crate::model::words::joined_forms(entry.name()) {
                doc.add_text(self.name_joined, form);
            }
        }
        doc.add_text(self.name_sort, crate::model::sort_key(entry.name()));
        for term in super::list::order::terms(entry) {
            doc.add_bytes(self.order, &term);
        }
        let mut number = |name: &str, value: Option<i64>| {
            if let Some(v) = value.and_then(|v| u64::try_from(v).ok()) {
                doc.add_u64(self.number(name), v);
            }
        };
        match entry {
            Entry::Album(album, _) => number("artist_id", Some(album.artist_id)),
            Entry::Track(track, ..) => {
                number("album_id", track.album_id);
                number("artist_id", track.artist_id);
                number("genre_id", track.genre_id);
                number("media_type_id", Some(track.media_type_id));
                number("milliseconds", Some(track.milliseconds));
                number("popularity", Some(track.popularity));
                number("price_cents", Some(track.unit_price.0));
            }
            Entry::Playlist(_, tracks) => {
                let members = serde_json::to_string(tracks).expect("ids serialise");
                doc.add_text(self.members, members);
            }
            Entry::Artist(_) | Entry::Genre(_) | Entry::MediaType(_) | Entry::Term(_) => {}
        }
        let mut text = |field: Field, value: &Option<String>| {
            if let Some(value) = value {
                doc.add_text(field, value);
                if field != self.composer {
                    for form in crate::model::words::joined_forms(value) {
                        doc.add_text(self.context_joined, form);
                    }
                }
            }
        };
        match entry {
            Entry::Track(track, album, artist) => {
                text(self.composer, &track.composer);
                text(self.album, album);
                text(self.artist, artist);
            }
            Entry::Album(_, artist) => text(self.artist, artist),
            Entry::Artist(_)
            | Entry::Genre(_)
            | Entry::MediaType(_)
            | Entry::Playlist(..)
            | Entry::Term(_) => {}
        }
        doc
    }
}

/// A stored document's first value, read without the others. Every document stores its
/// body first, so lists and lookups read an entry's JSON without decoding its search text
/// (four more strings) into a whole `TantivyDocument`.
pub struct FirstStored(pub Option<(Field, String)>);

impl DocumentDeserialize for FirstStored {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(
        mut deserializer: D,
    ) -> Result<Self, DeserializeError> {
        Ok(Self(deserializer.next_field::<StoredText>()?.and_then(
            |(field, text)| text.0.map(|text| (field, text)),
        )))
    }
}

/// A stored value when it is text; other values are read and dropped.
struct StoredText(Option<String>);

impl ValueDeserialize for StoredText {
    fn deserialize<'de, D: ValueDeserializer<'de>>(
        deserializer: D,
    ) -> Result<Self, DeserializeError> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl ValueVisitor for TextVisitor {
    type Value = StoredText;

    fn visit_string(&self, text: String) -> Result<Self::Value, DeserializeError> {
        Ok(StoredText(Some(text)))
    }

    fn visit_u64(&self, _: u64) -> Result<Self::Value, DeserializeError> {
        Ok(StoredText(None))
    }
}
