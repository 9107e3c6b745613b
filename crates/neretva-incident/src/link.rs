//! Links between incidents.
//!
//! A link is stored once, from one incident to another; [`LinkKind::inverse`] gives how it reads
//! from the other side (`parent_of` one way is `child_of` the other).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How two incidents relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Connected (same campaign, same actor), handled separately.
    Related,
    /// The same incident reported again; usually followed by a merge.
    DuplicateOf,
    /// The inverse of `duplicate_of`.
    HasDuplicate,
    /// An umbrella incident (a campaign) over this one.
    ParentOf,
    ChildOf,
}

impl LinkKind {
    /// How the link reads from the other incident.
    pub fn inverse(self) -> LinkKind {
        match self {
            LinkKind::Related => LinkKind::Related,
            LinkKind::DuplicateOf => LinkKind::HasDuplicate,
            LinkKind::HasDuplicate => LinkKind::DuplicateOf,
            LinkKind::ParentOf => LinkKind::ChildOf,
            LinkKind::ChildOf => LinkKind::ParentOf,
        }
    }
}

/// A stored link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Link {
    pub from: Uuid,
    pub to: Uuid,
    pub kind: LinkKind,
}

impl Link {
    /// The same link seen from `to`.
    pub fn reversed(self) -> Link {
        Link { from: self.to, to: self.from, kind: self.kind.inverse() }
    }

    /// The link as seen from `incident`, if it touches it.
    pub fn seen_from(self, incident: Uuid) -> Option<Link> {
        if self.from == incident {
            Some(self)
        } else if self.to == incident {
            Some(self.reversed())
        } else {
            None
        }
    }

    /// In one canonical direction (`from` < `to`), so both spellings of a link compare equal.
    pub fn canonical(self) -> Link {
        if self.from <= self.to { self } else { self.reversed() }
    }
}

/// Why a link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("an incident cannot be linked to itself")]
    SelfLink,
    #[error("the incidents are already linked as {0:?}")]
    Exists(LinkKind),
    #[error("the link would make an incident its own ancestor")]
    Cycle,
}

/// Checks a new link against the existing ones (any direction, any incidents).
///
/// Two incidents have at most one link; parent and child links must form a forest.
pub fn check_link(new: Link, existing: &[Link]) -> Result<(), LinkError> {
    if new.from == new.to {
        return Err(LinkError::SelfLink);
    }
    if let Some(found) = existing.iter().find_map(|link| {
        let seen = link.seen_from(new.from)?;
        (seen.to == new.to).then_some(seen.kind)
    }) {
        return Err(LinkError::Exists(found));
    }
    if matches!(new.kind, LinkKind::ParentOf | LinkKind::ChildOf) {
        // As (parent, child): a cycle exists if the new parent already descends from the child.
        let (parent, child) =
            if new.kind == LinkKind::ParentOf { (new.from, new.to) } else { (new.to, new.from) };
        let edges: Vec<(Uuid, Uuid)> = existing
            .iter()
            .filter_map(|link| match link.kind {
                LinkKind::ParentOf => Some((link.from, link.to)),
                LinkKind::ChildOf => Some((link.to, link.from)),
                _ => None,
            })
            .collect();
        let mut stack = vec![child];
        let mut seen = vec![child];
        while let Some(node) = stack.pop() {
            if node == parent {
                return Err(LinkError::Cycle);
            }
            for (from, to) in &edges {
                if *from == node && !seen.contains(to) {
                    seen.push(*to);
                    stack.push(*to);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn links_read_both_ways() {
        let link = Link { from: id(1), to: id(2), kind: LinkKind::ParentOf };
        assert_eq!(link.seen_from(id(2)), Some(Link { from: id(2), to: id(1), kind: LinkKind::ChildOf }));
        assert_eq!(link.seen_from(id(3)), None);
        assert_eq!(link.reversed().canonical(), link);
        for kind in [
            LinkKind::Related,
            LinkKind::DuplicateOf,
            LinkKind::HasDuplicate,
            LinkKind::ParentOf,
            LinkKind::ChildOf,
        ] {
            assert_eq!(kind.inverse().inverse(), kind);
        }
    }

    #[test]
    fn bad_links_are_refused() {
        let existing = [
            Link { from: id(1), to: id(2), kind: LinkKind::ParentOf },
            Link { from: id(3), to: id(2), kind: LinkKind::ChildOf },
        ];
        let link = |from, to, kind| Link { from: id(from), to: id(to), kind };
        assert_eq!(check_link(link(4, 4, LinkKind::Related), &existing), Err(LinkError::SelfLink));
        assert_eq!(
            check_link(link(2, 1, LinkKind::Related), &existing),
            Err(LinkError::Exists(LinkKind::ChildOf))
        );
        // 1 → 2 → 3; making 3 the parent of 1 closes a loop.
        assert_eq!(check_link(link(3, 1, LinkKind::ParentOf), &existing), Err(LinkError::Cycle));
        assert_eq!(check_link(link(1, 3, LinkKind::ChildOf), &existing), Err(LinkError::Cycle));
        assert_eq!(check_link(link(1, 4, LinkKind::ParentOf), &existing), Ok(()));
        assert_eq!(check_link(link(3, 1, LinkKind::Related), &existing), Ok(()));
    }
}
