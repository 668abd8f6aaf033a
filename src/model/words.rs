//! How names and queries become the words search matches: folded words in which `&`, `and`
//! and `n'` are one word, the joined forms of neighbouring words (so "acdc" finds "AC/DC"),
//! the edit distance that decides what a typo was meant to be, and the sort key of a name.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The word `&`, `and` and a lone `n` (as in "Guns N' Roses", "Rock 'n' Roll") all become.
const AND: &str = "and";

/// Most neighbouring words joined into one form: enough for "Guns N' Roses" → "gunsnroses"
/// while keeping a long name's joined forms few.
const MOST_JOINED: usize = 4;

/// Splits text into runs of letters and digits, as tantivy's simple tokenizer does, except
/// that `&` is a word of its own and a lone `n` is read as "and".
#[derive(Clone, Default)]
pub struct WordTokenizer;

pub struct WordStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let mut tokens = Vec::new();
        let mut push = |from: usize, to: usize, word: &str| {
            let word = if word.eq_ignore_ascii_case("n") || word == "&" {
                AND
            } else {
                word
            };
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position: tokens.len(),
                text: word.to_string(),
                position_length: 1,
            });
        };
        let mut start = None;
        for (at, c) in text.char_indices() {
            if c.is_alphanumeric() {
                start.get_or_insert(at);
                continue;
            }
            if let Some(from) = start.take() {
                push(from, at, &text[from..at]);
            }
            if c == '&' {
                push(at, at + 1, "&");
            }
        }
        if let Some(from) = start {
            push(from, text.len(), &text[from..]);
        }
        WordStream {
            tokens: tokens.into_iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

/// The analyzer of every searchable text field and of queries: words, lower-cased, with
/// accents folded, so "vinicius" finds "Vinícius".
pub fn search_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The searchable words of a text, in order.
pub fn words_of(text: &str) -> Vec<String> {
    let mut analyzer = search_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    words
}

/// The folded words of a text as typed: `&` left out and `n` kept, as sort keys read them.
pub fn as_typed(text: &str) -> Vec<String> {
    let mut analyzer = folded_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    words
}

/// Every run of two to `MOST_JOINED` neighbouring words of a text written as one, which is
/// how people type names whose spaces or punctuation they leave out, each with its words
/// spaced. Both readings count: "Guns N' Roses" gives "gunsnroses" as typed and
/// "gunsandroses" as searched.
pub fn joined(text: &str) -> Vec<(String, String)> {
    let mut forms: Vec<(String, String)> = Vec::new();
    for words in [as_typed(text), words_of(text)] {
        for start in 0..words.len() {
            for end in start + 2..=(start + MOST_JOINED).min(words.len()) {
                let form = words[start..end].concat();
                if !forms.iter().any(|(known, _)| *known == form) {
                    forms.push((form, words[start..end].join(" ")));
                }
            }
        }
    }
    forms
}

/// The joined forms alone (see `joined`).
pub fn joined_forms(text: &str) -> Vec<String> {
    joined(text).into_iter().map(|(form, _)| form).collect()
}

/// The edits (insertions, deletions, substitutions, and swaps of neighbouring letters) that
/// turn `a` into `b`, as the index's fuzzy matching counts them.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the optimal-string-alignment table: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let substitution = previous[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            row[j] = substitution.min(previous[j] + 1).min(row[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut row);
    }
    previous[b.len()]
}

/// The sort key of a name: lower-cased, accents folded, punctuation dropped.
pub fn sort_key(name: &str) -> String {
    as_typed(name).join(" ")
}

/// Lower-cased and accent-folded words, as sort keys are made of.
pub fn folded_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ampersands_and_lone_ns_are_the_word_and() {
        assert_eq!(words_of("Guns N' Roses"), ["guns", "and", "roses"]);
        assert_eq!(words_of("Simon & Garfunkel"), ["simon", "and", "garfunkel"]);
        assert_eq!(words_of("R&B/Soul"), ["r", "and", "b", "soul"]);
        assert_eq!(words_of("Rock 'n' Roll"), ["rock", "and", "roll"]);
        assert_eq!(words_of("Vinícius NOVA"), ["vinicius", "nova"]);
    }

    #[test]
    fn joined_forms_run_over_neighbours_only() {
        assert_eq!(
            joined_forms("Guns N' Roses"),
            [
                "gunsn",
                "gunsnroses",
                "nroses",
                "gunsand",
                "gunsandroses",
                "androses"
            ]
        );
        assert_eq!(joined_forms("AC/DC"), ["acdc"]);
        assert!(joined_forms("Supernova").is_empty());
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("metallica", "metallica"), 0);
        assert_eq!(edit_distance("metalica", "metallica"), 1);
        assert_eq!(edit_distance("mteallica", "metallica"), 1);
        assert_eq!(edit_distance("sabath", "sabbath"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
