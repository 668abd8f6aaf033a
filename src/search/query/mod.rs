//! Full-text search over tracks, albums and artists: typo-tolerant, prefix-matching on the
//! last word, accent- and case-folded, ranked by BM25 with field boosts, with highlights and
//! facet counts.
//!
//! Queries are built from the words of the text, never parsed as query syntax, so quotes,
//! parentheses, operators and regex characters are just text. Length and word count are
//! bounded, so no query is expensive to build or run.
//!
//! A search is run here rather than by tantivy's boolean queries and collectors, whose unions
//! score every posting of every word and whose per-document collectors cost more than the
//! search itself when a short prefix matches a large part of the catalog. Each segment is run
//! in passes: the matches as a bit set (the union of each clause's postings, intersected),
//! then the score of each match, adding the same scores in the same order as a boolean query
//! of boosted term, fuzzy and prefix queries would, then facets from one small number per
//! document, then the best page.

mod facets;
mod passes;
mod wording;

use std::collections::HashMap;
use std::ops::Bound;

use tantivy::query::{FuzzyTermQuery, RangeQuery};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Searcher, TantivyDocument, Term};

use super::CatalogIndex;
use crate::catalog::Kind;
use crate::model::words::words_of;
use facets::facet_table;
use passes::{Alternative, Plan};
use wording::Seen;

/// Longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a search may have.
pub const MAX_QUERY_WORDS: usize = 10;

#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The folded words of the text (see `words`).
    pub words: Vec<String>,
    pub kinds: Vec<Kind>,
    pub equal: Vec<(&'static str, u64)>,
    pub ranges: Vec<(&'static str, u64, u64)>,
    /// Taxonomy terms as asked for, (type, slug).
    pub terms: Vec<(String, String)>,
    /// Their facets, which the entries must have (or have below them).
    pub facets: Vec<String>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug)]
pub struct Hit {
    pub kind: Kind,
    pub score: f32,
    /// The stored JSON representation.
    pub body: String,
    /// The name with matched words in `<b>` tags, when any matched exactly.
    pub highlight: Option<String>,
}

#[derive(Debug, Default)]
pub struct Facets {
    /// (value, count), by descending count.
    pub genre: Vec<(u64, u64)>,
    pub media_type: Vec<(u64, u64)>,
    pub price_cents: Vec<(u64, u64)>,
    /// Matching entries per taxonomy term, each counted once under every term it is filed
    /// under or below.
    pub terms: HashMap<i64, u64>,
}

#[derive(Debug)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Facets,
    /// The words the results match, in the query's order.
    pub used: Vec<String>,
    /// The words left out because no entry matched them together with the rest.
    pub dropped: Vec<String>,
    /// The query as its typos were read, when a word matched only as a near spelling.
    pub did_you_mean: Option<String>,
}

/// The words to search for, or why the text cannot be searched.
pub fn words(text: &str) -> Result<Vec<String>, String> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("q has more than {MAX_QUERY_CHARS} characters"));
    }
    let words = words_of(text);
    if words.is_empty() {
        return Err("q needs at least one letter or digit".into());
    }
    if words.len() > MAX_QUERY_WORDS {
        return Err(format!("q has more than {MAX_QUERY_WORDS} words"));
    }
    Ok(words)
}

/// The edits a word may be off by: none below four letters, one from four, two from eight.
fn allowed_edits(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

impl CatalogIndex {
    fn text_fields(&self) -> [(Field, f32); 4] {
        // Track name > artist > album > composer.
        [
            (self.schema.name, 4.0),
            (self.schema.artist, 2.0),
            (self.schema.album, 1.5),
            (self.schema.composer, 1.0),
        ]
    }

    /// The fields of joined forms, weighed as the name and as what surrounds it.
    fn joined_fields(&self) -> [(Field, f32); 2] {
        [
            (self.schema.name_joined, 4.0),
            (self.schema.context_joined, 1.5),
        ]
    }

    /// What to run for `words` (the whole query or what is kept of it), with the word at
    /// `prefix` also completed; and which words are found nowhere as typed.
    fn plan(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        words: &[&str],
        prefix: Option<usize>,
    ) -> anyhow::Result<(Plan, Vec<usize>)> {
        let mut plan = Plan::default();
        let mut unknown = Vec::new();
        let occurs = |field: Field, text: &str| -> anyhow::Result<bool> {
            Ok(searcher.doc_freq(&Term::from_field_text(field, text))? > 0)
        };
        for (i, word) in words.iter().enumerate() {
            let mut alternatives = Vec::new();
            // Typos are forgiven for words that appear nowhere as typed: a word that exists
            // is taken as meant, which keeps common words from expanding into huge unions.
            let mut known = false;
            for (field, _) in self.text_fields() {
                known |= occurs(field, word)?;
            }
            // A word that is a name's words run together ("acdc", "gunsnroses").
            for (field, boost) in self.joined_fields() {
                if occurs(field, word)? {
                    known = true;
                    let term = Term::from_field_text(field, word);
                    alternatives.push(Alternative::Term(term, IndexRecordOption::WithFreqs, boost));
                }
            }
            // A name's one word typed as two ("super nova"): both words accept it.
            let mut split = false;
            let neighbours = [
                i.checked_sub(1)
                    .map(|before| format!("{}{word}", words[before])),
                words.get(i + 1).map(|after| format!("{word}{after}")),
            ];
            for together in neighbours.iter().flatten() {
                for (field, boost) in self.text_fields() {
                    if occurs(field, together)? {
                        split = true;
                        let term = Term::from_field_text(field, together);
                        alternatives.push(Alternative::Term(
                            term,
                            IndexRecordOption::WithFreqs,
                            boost,
                        ));
                    }
                }
            }
            if !known && !split {
                unknown.push(i);
            }
            let edits = allowed_edits(word);
            for (field, boost) in self.text_fields().into_iter().chain(self.joined_fields()) {
                let term = Term::from_field_text(field, word);
                if self.text_fields().iter().any(|(text, _)| *text == field) {
                    alternatives.push(Alternative::Term(
                        term.clone(),
                        IndexRecordOption::WithFreqs,
                        boost,
                    ));
                }
                if edits > 0 && !known {
                    let fuzzy = FuzzyTermQuery::new(term, edits, true);
                    alternatives.push(Alternative::Constant(Box::new(fuzzy), boost * 0.5));
                }
                if prefix == Some(i) {
                    alternatives.push(Alternative::Prefix(field, word.to_string(), boost * 0.75));
                }
            }
            plan.must.push(alternatives);
        }
        // A query that is an entry's whole name, spaced or joined, ranks that entry above
        // names that merely contain its words. When a word has a typo its matches score
        // alike, so the whole name within the same edits counts too, and "metalica" puts the
        // artist Metallica above albums named after them. That walks every name, so it runs
        // only then.
        let whole = words.join(" ");
        let mut wholes = vec![whole.clone()];
        if words.len() > 1 {
            wholes.push(words.concat());
        }
        for whole in wholes {
            let term = Term::from_field_text(self.schema.name_exact, &whole);
            plan.should
                .push(Alternative::Term(term, IndexRecordOption::Basic, 8.0));
        }
        let edits = allowed_edits(&whole);
        if !unknown.is_empty() && edits > 0 {
            let term = Term::from_field_text(self.schema.name_exact, &whole);
            let near = FuzzyTermQuery::new(term, edits, true);
            plan.should.push(Alternative::Constant(Box::new(near), 6.0));
        }
        self.filter(request, &mut plan)?;
        Ok((plan, unknown))
    }

    /// The request's kinds and filters, as clauses every match must meet.
    fn filter(&self, request: &SearchRequest, plan: &mut Plan) -> anyhow::Result<()> {
        // Only tracks, albums and artists carry searchable text, so all three need no filter.
        if request.kinds.len() < 3 {
            let kind = self.schema.field("kind");
            plan.must.push(
                request
                    .kinds
                    .iter()
                    .map(|k| {
                        let term = Term::from_field_u64(kind, k.code());
                        Alternative::Term(term, IndexRecordOption::Basic, 1.0)
                    })
                    .collect(),
            );
        }
        for (field, value) in &request.equal {
            let term = Term::from_field_u64(self.schema.field(field), *value);
            plan.must
                .push(vec![Alternative::Term(term, IndexRecordOption::Basic, 1.0)]);
        }
        for facet in &request.facets {
            let facet = Facet::from_text(facet)
                .map_err(|e| anyhow::anyhow!("a stored term has an invalid facet {facet}: {e}"))?;
            let term = Term::from_facet(self.schema.taxonomy, &facet);
            plan.must
                .push(vec![Alternative::Term(term, IndexRecordOption::Basic, 1.0)]);
        }
        for (field, min, max) in &request.ranges {
            let field = self.schema.field(field);
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_u64(field, *min)),
                Bound::Included(Term::from_field_u64(field, *max)),
            );
            plan.must.push(vec![Alternative::Scored(Box::new(range))]);
        }
        Ok(())
    }

    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<SearchResults> {
        let searcher = self.reader.searcher();
        let terms = self.term_set()?;
        let found = self.best_match(&searcher, request, Some(terms))?;
        let snippets = SnippetGenerator::create(&searcher, &found.plan.terms(), self.schema.name)?;
        let mut hits = Vec::with_capacity(found.run.top.len());
        let mut seen = Seen::default();
        let spell = found.may_correct();
        for (score, address) in &found.run.top {
            let doc: TantivyDocument = searcher.doc(*address)?;
            let kind_code = doc
                .get_first(self.schema.field("kind"))
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            let Some(kind) = Kind::from_code(kind_code) else {
                continue;
            };
            let body = doc
                .get_first(self.schema.body)
                .and_then(|v| v.as_str())
                .unwrap_or("{}")
                .to_string();
            let snippet = snippets.snippet_from_doc(&doc);
            let name = doc
                .get_first(self.schema.name)
                .and_then(|v| v.as_str())
                .unwrap_or("");
            for (field, _) in self.text_fields().into_iter().filter(|_| spell) {
                if let Some(text) = doc.get_first(field).and_then(|v| v.as_str()) {
                    seen.add(text);
                }
            }
            hits.push(Hit {
                kind,
                score: *score,
                body,
                highlight: (!snippet.is_empty()).then(|| whole_name_highlight(name, &snippet)),
            });
        }
        let did_you_mean = found.did_you_mean(&request.words, &seen);
        Ok(SearchResults {
            hits,
            total: found.run.total,
            facets: found.run.facets,
            used: found
                .used
                .iter()
                .map(|&i| request.words[i].clone())
                .collect(),
            dropped: (0..request.words.len())
                .filter(|i| !found.used.contains(i))
                .map(|i| request.words[i].clone())
                .collect(),
            did_you_mean,
        })
    }

    /// Names that complete the text as typed, best first.
    pub fn suggest(&self, request: &SearchRequest) -> anyhow::Result<Vec<(Kind, String)>> {
        let searcher = self.reader.searcher();
        let words: Vec<&str> = request.words.iter().map(String::as_str).collect();
        let (plan, _) = self.plan(&searcher, request, &words, words.len().checked_sub(1))?;
        let run = plan.run(&searcher, 0, request.limit, None)?;
        let mut out = Vec::with_capacity(run.top.len());
        for (_, address) in run.top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let code = doc
                .get_first(self.schema.field("kind"))
                .and_then(|v| v.as_u64());
            let name = doc.get_first(self.schema.name).and_then(|v| v.as_str());
            if let (Some(kind), Some(name)) = (code.and_then(Kind::from_code), name) {
                out.push((kind, name.to_string()));
            }
        }
        Ok(out)
    }

    /// Builds the facet tables of the searched segments, so the first search does not.
    pub(super) fn warm_facets(&self) -> anyhow::Result<()> {
        let searcher = self.reader.searcher();
        for reader in searcher.segment_readers() {
            facet_table(&searcher, reader)?;
        }
        Ok(())
    }
}

/// The whole name as HTML with the matches in `<b>`. Tantivy's fragment runs from the first
/// matched token to the last one and drops what is around them ("Rock In Rio [CD1]" would
/// lose its "]"), so the text outside the fragment is put back.
fn whole_name_highlight(name: &str, snippet: &tantivy::snippet::Snippet) -> String {
    let fragment = snippet.fragment();
    match name.find(fragment) {
        Some(start) if !fragment.is_empty() => format!(
            "{}{}{}",
            // Escaped as tantivy escapes the fragment in `to_html`.
            htmlescape::encode_minimal(&name[..start]),
            snippet.to_html(),
            htmlescape::encode_minimal(&name[start + fragment.len()..])
        ),
        _ => snippet.to_html(),
    }
}
