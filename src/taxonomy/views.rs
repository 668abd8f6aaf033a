//! What the taxonomy read API answers: a type's tree with counts, and one term's page with
//! its ancestors and children.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Counts, Term, TermCounts, TermSet};

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyType {
    #[serde(rename = "type")]
    pub taxonomy: String,
    pub term_count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyTypes {
    pub data: Vec<TaxonomyType>,
}

/// A term with its counts and, in a tree, its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermNode {
    #[serde(flatten)]
    pub term: Term,
    pub counts: Counts,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub children: Option<Vec<TermNode>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyTree {
    #[serde(rename = "type")]
    pub taxonomy: String,
    /// The root terms, each with its children, in display order.
    pub data: Vec<TermNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermPage {
    #[serde(flatten)]
    pub term: Term,
    pub counts: Counts,
    /// From the root down to the parent.
    pub ancestors: Vec<Term>,
    /// The direct children, with their counts.
    pub children: Vec<TermNode>,
}

fn counts_of(counts: &TermCounts, id: i64) -> Counts {
    counts.get(&id).copied().unwrap_or_default()
}

fn subtree(
    set: &TermSet,
    counts: &TermCounts,
    taxonomy: &str,
    parent: Option<i64>,
) -> Vec<TermNode> {
    set.children(taxonomy, parent)
        .into_iter()
        .map(|term| TermNode {
            term: term.clone(),
            counts: counts_of(counts, term.id),
            children: Some(subtree(set, counts, taxonomy, Some(term.id))),
        })
        .collect()
}

pub fn types(set: &TermSet) -> TaxonomyTypes {
    TaxonomyTypes {
        data: set
            .types()
            .into_iter()
            .map(|(taxonomy, term_count)| TaxonomyType {
                taxonomy,
                term_count,
            })
            .collect(),
    }
}

/// The whole tree of a type, or `None` when the type has no terms.
pub fn tree(set: &TermSet, counts: &TermCounts, taxonomy: &str) -> Option<TaxonomyTree> {
    let data = subtree(set, counts, taxonomy, None);
    (!data.is_empty()).then(|| TaxonomyTree {
        taxonomy: taxonomy.to_string(),
        data,
    })
}

pub fn page(set: &TermSet, counts: &TermCounts, taxonomy: &str, slug: &str) -> Option<TermPage> {
    let term = set.find(taxonomy, slug)?;
    Some(TermPage {
        term: term.clone(),
        counts: counts_of(counts, term.id),
        ancestors: set.ancestors(term.id).into_iter().cloned().collect(),
        children: set
            .children(taxonomy, Some(term.id))
            .into_iter()
            .map(|child| TermNode {
                term: child.clone(),
                counts: counts_of(counts, child.id),
                children: None,
            })
            .collect(),
    })
}
