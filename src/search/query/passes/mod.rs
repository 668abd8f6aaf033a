//! The passes a search runs over each segment: matching as bit sets, scoring only the
//! matches (adding scores as tantivy's boolean queries would), and keeping the best page.

mod bits;
mod matching;

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Score, Searcher, Term};

use super::facets::{count_facets, Counts};
use super::Facets;
use crate::model::tree::{TermSet, TermTally};
use matching::{matches, prepare};

pub(super) use bits::Matches;

/// One way for a document to satisfy a clause, and what it adds to the score when it does.
pub(super) enum Alternative {
    /// A term, scored by BM25 times a boost, as a boosted `TermQuery` scores it.
    Term(Term, IndexRecordOption, Score),
    /// Words of a field that start with these letters; every match adds the same score, as a
    /// boosted prefix `FuzzyTermQuery` would.
    Prefix(Field, String, Score),
    /// Every match adds the same score.
    Constant(Box<dyn Query>, Score),
    /// Scored by the query's own scorer.
    Scored(Box<dyn Query>),
}

/// A document matches when it matches some alternative of every `must` clause. Its score is
/// the sum over the clauses, `should` included, of what its matching alternatives add, in
/// order, as tantivy's boolean queries add them.
#[derive(Default)]
pub(super) struct Plan {
    pub(super) must: Vec<Vec<Alternative>>,
    pub(super) should: Vec<Alternative>,
}

/// The best page of a search (score and address, best first), its total and its facets.
pub(super) struct Run {
    pub(super) top: Vec<(Score, DocAddress)>,
    pub(super) total: usize,
    pub(super) facets: Facets,
}

impl Plan {
    /// The terms searched as typed, for highlights.
    pub(super) fn terms(&self) -> BooleanQuery {
        let terms = self
            .must
            .iter()
            .chain(std::iter::once(&self.should))
            .flatten()
            .filter_map(|alternative| match alternative {
                Alternative::Term(term, option, _) => {
                    let query: Box<dyn Query> = Box::new(TermQuery::new(term.clone(), *option));
                    Some((Occur::Should, query))
                }
                _ => None,
            })
            .collect();
        BooleanQuery::new(terms)
    }

    pub(super) fn run(
        &self,
        searcher: &Searcher,
        offset: usize,
        limit: usize,
        // Facets are counted only when the taxonomy terms are given.
        facets: Option<Arc<TermSet>>,
    ) -> tantivy::Result<Run> {
        let must = self
            .must
            .iter()
            .map(|clause| prepare(clause, searcher))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let should = prepare(&self.should, searcher)?;
        let keep = offset + limit;
        // The worst kept is on top.
        let mut top: BinaryHeap<Ranked> = BinaryHeap::with_capacity(keep + 1);
        let mut worst = Score::INFINITY;
        let mut total = 0;
        let mut counts: [Counts; 3] = Default::default();
        let mut tally = facets.map(TermTally::new);
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let Some(matches) = matches(reader, &must)? else {
                continue;
            };
            let (matches, mut clauses) = matches;
            if matches.len == 0 {
                continue;
            }
            // Optional clauses only add to the score of what matches.
            let mut optional = Vec::new();
            for alternative in &should {
                optional.extend(alternative.collect(reader, None)?);
            }
            total += matches.len;
            let scores = matches.scores(&mut clauses, &mut optional);
            if let Some(tally) = tally.as_mut() {
                count_facets(searcher, reader, &matches, &mut counts, tally)?;
            }
            // Ties are broken by kind and id, not by where documents happen to sit, so the
            // order is the same however the index was built.
            let fast = reader.fast_fields();
            let kinds = fast.u64("kind")?.first_or_default_col(0);
            let ids = fast.u64("id")?.first_or_default_col(0);
            matches.for_each(|position, doc| {
                let score = scores[position];
                if keep == 0 || (top.len() == keep && score < worst) {
                    return;
                }
                let ranked = Ranked {
                    score,
                    key: (kinds.get_val(doc), ids.get_val(doc)),
                    address: DocAddress::new(ord as u32, doc),
                };
                if top.len() == keep {
                    if top.peek().is_some_and(|worst| ranked >= *worst) {
                        return;
                    }
                    top.pop();
                }
                top.push(ranked);
                if top.len() == keep {
                    worst = top.peek().map_or(Score::INFINITY, |worst| worst.score);
                }
            });
        }
        let [genre, media_type, price_cents] = counts.map(Counts::sorted);
        Ok(Run {
            top: top
                .into_sorted_vec()
                .into_iter()
                .skip(offset)
                .map(|ranked| (ranked.score, ranked.address))
                .collect(),
            total,
            facets: Facets {
                genre,
                media_type,
                price_cents,
                terms: tally
                    .map(|tally| tally.counts().collect())
                    .unwrap_or_default(),
            },
        })
    }
}

/// A hit kept for the page: better is less, by descending score then ascending kind and id.
struct Ranked {
    score: Score,
    /// (kind, id): the lower ranks first among equal scores.
    key: (u64, u64),
    address: DocAddress,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .partial_cmp(&self.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.key.cmp(&other.key))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}
