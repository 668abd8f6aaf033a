//! Matching: each clause's alternatives prepared for the searcher, their postings gathered
//! into a segment's bit sets, and the clauses intersected into the segment's live matches.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25Weight, EnableScoring, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Score, Searcher, SegmentReader, Term, TERMINATED};

use super::bits::{Bits, Matches};
use super::Alternative;

/// The live matches of a segment and what scores them, clause by clause; `None` when a clause
/// matches nothing there.
pub(super) fn matches(
    reader: &SegmentReader,
    must: &[Vec<Prepared>],
) -> tantivy::Result<Option<(Matches, Vec<Vec<Live>>)>> {
    let max_doc = reader.max_doc();
    let mut all: Option<Bits> = None;
    let mut clauses = Vec::with_capacity(must.len() + 1);
    for clause in must {
        let mut either = Bits::new(max_doc);
        let mut live = Vec::with_capacity(clause.len());
        for alternative in clause {
            // A term's matches are among those of a prefix of it in the same field.
            let covered = match alternative {
                Prepared::Term(term, ..) => clause.iter().any(|other| {
                    matches!(other, Prepared::Prefix(field, prefix, _)
                        if *field == term.field()
                            && term.serialized_value_bytes().starts_with(str::as_bytes(prefix)))
                }),
                _ => false,
            };
            live.extend(alternative.collect(reader, (!covered).then_some(&mut either))?);
        }
        if live.is_empty() {
            return Ok(None);
        }
        match &mut all {
            None => all = Some(either),
            Some(all) => {
                for (word, this) in all.0.iter_mut().zip(&either.0) {
                    *word &= this;
                }
            }
        }
        clauses.push(live);
    }
    let Some(mut all) = all else {
        return Ok(None);
    };
    if let Some(alive) = reader.alive_bitset() {
        for (at, word) in all.0.iter_mut().enumerate() {
            let mut rest = *word;
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                if alive.is_deleted(at as u32 * 64 + bit) {
                    *word &= !(1 << bit);
                }
            }
        }
    }
    Ok(Some((Matches::new(all), clauses)))
}

pub(super) fn prepare<'a>(
    clause: &'a [Alternative],
    searcher: &Searcher,
) -> tantivy::Result<Vec<Prepared<'a>>> {
    clause.iter().map(|a| a.prepare(searcher)).collect()
}

pub(super) enum Prepared<'a> {
    Term(&'a Term, IndexRecordOption, Box<Bm25Weight>),
    Prefix(Field, &'a str, Score),
    Constant(Box<dyn Weight>, Score),
    Scored(Box<dyn Weight>),
}

impl Alternative {
    fn prepare(&self, searcher: &Searcher) -> tantivy::Result<Prepared<'_>> {
        Ok(match self {
            Alternative::Term(term, option, boost) => Prepared::Term(
                term,
                *option,
                Box::new(
                    Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?.boost_by(*boost),
                ),
            ),
            Alternative::Prefix(field, prefix, score) => Prepared::Prefix(*field, prefix, *score),
            Alternative::Constant(query, score) => Prepared::Constant(
                query.weight(EnableScoring::disabled_from_searcher(searcher))?,
                *score,
            ),
            Alternative::Scored(query) => {
                Prepared::Scored(query.weight(EnableScoring::enabled_from_searcher(searcher))?)
            }
        })
    }
}

/// An alternative's matches within a segment, ready to score.
pub(super) enum Live {
    Term(Box<BlockSegmentPostings>, FieldNormReader, Box<Bm25Weight>),
    Constant(Bits, Score),
    Scored(Box<dyn Scorer>),
}

impl Live {
    /// How many documents it may match, as tantivy's scorer for it estimates.
    pub(super) fn size(&self) -> u32 {
        match self {
            Live::Term(postings, ..) => postings.doc_freq(),
            Live::Constant(own, _) => own.0.iter().map(|word| word.count_ones()).sum(),
            Live::Scored(scorer) => scorer.size_hint(),
        }
    }
}

impl Prepared<'_> {
    /// Adds the matches of this alternative in `reader` to `into`; returns what scores them,
    /// or `None` when nothing matches.
    pub(super) fn collect(
        &self,
        reader: &SegmentReader,
        into: Option<&mut Bits>,
    ) -> tantivy::Result<Option<Live>> {
        let max_doc = reader.max_doc();
        match self {
            Prepared::Term(term, option, weight) => {
                let inverted = reader.inverted_index(term.field())?;
                let Some(info) = inverted.get_term_info(term)? else {
                    return Ok(None);
                };
                if let Some(into) = into {
                    let mut postings = inverted
                        .read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                    while !postings.docs().is_empty() {
                        postings.docs().iter().for_each(|&doc| into.insert(doc));
                        postings.advance();
                    }
                }
                // As `TermQuery` scores: without norms, every document has the same length.
                let norms = reader
                    .fieldnorms_readers()
                    .get_field(term.field())?
                    .unwrap_or_else(|| FieldNormReader::constant(max_doc, 1));
                let postings = inverted.read_block_postings_from_terminfo(&info, *option)?;
                Ok(Some(Live::Term(Box::new(postings), norms, weight.clone())))
            }
            Prepared::Prefix(field, prefix, score) => {
                let inverted = reader.inverted_index(*field)?;
                let prefix = str::as_bytes(prefix);
                let mut range = inverted.terms().range().ge(prefix);
                if let Some(end) = prefix_end(prefix) {
                    range = range.lt(end);
                }
                let mut terms = range.into_stream()?;
                let mut own: Option<Bits> = None;
                while terms.advance() {
                    let mut postings = inverted.read_block_postings_from_terminfo(
                        terms.value(),
                        IndexRecordOption::Basic,
                    )?;
                    let own = own.get_or_insert_with(|| Bits::new(max_doc));
                    while !postings.docs().is_empty() {
                        postings.docs().iter().for_each(|&doc| own.insert(doc));
                        postings.advance();
                    }
                }
                Ok(own.map(|own| Live::Constant(own.added_to(into), *score)))
            }
            Prepared::Constant(weight, score) => {
                let mut own: Option<Bits> = None;
                weight.for_each_no_score(reader, &mut |docs| {
                    let own = own.get_or_insert_with(|| Bits::new(max_doc));
                    docs.iter().for_each(|&doc| own.insert(doc));
                })?;
                Ok(own.map(|own| Live::Constant(own.added_to(into), *score)))
            }
            Prepared::Scored(weight) => {
                if let Some(into) = into {
                    weight.for_each_no_score(reader, &mut |docs| {
                        docs.iter().for_each(|&doc| into.insert(doc))
                    })?;
                }
                let scorer = weight.scorer(reader, 1.0)?;
                Ok((scorer.doc() != TERMINATED).then_some(Live::Scored(scorer)))
            }
        }
    }
}

/// The first byte string after every string that starts with `prefix`, if any.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
