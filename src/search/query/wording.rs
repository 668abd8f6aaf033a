//! Which of a query's words a search keeps, and how it reads their typos: when no entry
//! matches every word, the words that match fewest entries are dropped one at a time (as
//! Meilisearch's `last` strategy does), and a word found only by its near spellings is
//! reported with the spelling the best results have.

use std::sync::Arc;

use tantivy::Searcher;

use super::passes::{Plan, Run};
use super::{allowed_edits, SearchRequest};
use crate::model::tree::TermSet;
use crate::model::words::{edit_distance, joined, words_of};
use crate::search::CatalogIndex;

/// The search that answered: its plan and run, the words it kept (by their place in the
/// query), and which of those were found nowhere as typed.
pub(super) struct Found {
    pub(super) plan: Plan,
    pub(super) run: Run,
    pub(super) used: Vec<usize>,
    unknown: Vec<usize>,
    /// The query's last word, completed as a prefix, when it is kept.
    prefix: Option<usize>,
}

/// The words, and the runs of words written as one, of the best results' text: what a typo
/// is compared with.
#[derive(Default)]
pub(super) struct Seen {
    /// (as written, as shown): a word is shown as itself, a joined form with its spaces.
    spellings: Vec<(String, String)>,
}

/// Results whose text is compared with a typo; more would only suggest rarer spellings.
const SEEN_AT_MOST: usize = 200;

impl Seen {
    pub(super) fn add(&mut self, text: &str) {
        let words = words_of(text).into_iter().map(|w| (w.clone(), w));
        for spelling in words.chain(joined(text)) {
            if self.spellings.len() < SEEN_AT_MOST && !self.spellings.contains(&spelling) {
                self.spellings.push(spelling);
            }
        }
    }

    /// The nearest spelling within the edits `word` is allowed, the earliest seen on a tie.
    fn nearest(&self, word: &str) -> Option<&str> {
        let allowed = usize::from(allowed_edits(word));
        self.spellings
            .iter()
            .map(|(written, shown)| (edit_distance(word, written), shown))
            .filter(|(edits, _)| (1..=allowed).contains(edits))
            .min_by_key(|(edits, _)| *edits)
            .map(|(_, shown)| shown.as_str())
    }

    fn completes(&self, word: &str) -> bool {
        self.spellings
            .iter()
            .any(|(written, _)| written.starts_with(word))
    }
}

impl Found {
    /// Whether some word used is not in the index as typed, so the results' spellings may
    /// correct it. Otherwise they are not gathered: that took a quarter of a search.
    pub(super) fn may_correct(&self) -> bool {
        self.used.iter().any(|i| self.unknown.contains(i))
    }

    /// The kept words with each typo replaced by what the results spell, when any was.
    pub(super) fn did_you_mean(&self, words: &[String], seen: &Seen) -> Option<String> {
        let mut corrected = false;
        let mut out = Vec::with_capacity(self.used.len());
        for &i in &self.used {
            let word = words[i].as_str();
            let typed =
                !self.unknown.contains(&i) || (self.prefix == Some(i) && seen.completes(word));
            match seen.nearest(word).filter(|_| !typed) {
                Some(meant) => {
                    corrected = true;
                    out.push(meant.to_string());
                }
                None => out.push(word.to_string()),
            }
        }
        corrected.then(|| out.join(" "))
    }
}

impl CatalogIndex {
    /// Runs the search with every word; when nothing matches them all, keeps dropping the
    /// word that matches fewest entries on its own (the later one of a tie) until something
    /// matches or one word is left.
    pub(super) fn best_match(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        facets: Option<Arc<TermSet>>,
    ) -> anyhow::Result<Found> {
        let last = request.words.len().checked_sub(1);
        let all: Vec<usize> = (0..request.words.len()).collect();
        let found = self.run_words(searcher, request, all, last, facets.clone())?;
        if found.run.total > 0 || request.words.len() < 2 {
            return Ok(found);
        }
        let mut alone = Vec::with_capacity(request.words.len());
        for i in 0..request.words.len() {
            let found = self.run_words(searcher, request, vec![i], last, None)?;
            alone.push((found.run.total, std::cmp::Reverse(i)));
        }
        let mut order: Vec<usize> = (0..request.words.len()).collect();
        order.sort_by_key(|&i| alone[i]);
        let mut found = found;
        for dropped in 1..request.words.len() {
            let mut kept = order[dropped..].to_vec();
            kept.sort_unstable();
            found = self.run_words(searcher, request, kept, last, facets.clone())?;
            if found.run.total > 0 {
                break;
            }
        }
        Ok(found)
    }

    fn run_words(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        used: Vec<usize>,
        last: Option<usize>,
        facets: Option<Arc<TermSet>>,
    ) -> anyhow::Result<Found> {
        let words: Vec<&str> = used.iter().map(|&i| request.words[i].as_str()).collect();
        let prefix = last.filter(|last| used.last() == Some(last));
        let (plan, unknown) =
            self.plan(searcher, request, &words, prefix.map(|_| words.len() - 1))?;
        let run = plan.run(searcher, request.offset, request.limit, facets)?;
        Ok(Found {
            plan,
            run,
            // The plan numbers words by their place among those kept.
            unknown: unknown.into_iter().map(|at| used[at]).collect(),
            used,
            prefix,
        })
    }
}
