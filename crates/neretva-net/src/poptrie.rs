//! A poptrie: an immutable longest-prefix-match structure for one address
//! family, after Asai and Ohara, "Poptrie: A Compressed Trie with Population
//! Count for Fast and Scalable Software IP Routing Table Lookup" (SIGCOMM
//! 2015).
//!
//! The first bits of an address index a flat array ("direct pointing"):
//! [`Key::EXTRA_DIRECT_BITS`] more than the bit length of the number of
//! prefixes, between [`MIN_DIRECT_BITS`] and [`Key::MAX_DIRECT_BITS`]. Each entry is either a
//! leaf or a node. A node covers the next six bits of the address: a 64-bit
//! vector marks which of its 64 positions continue in a child node, and a
//! second vector marks where a new run of equal leaves begins among the
//! remaining positions. Children and
//! leaves of a node are stored contiguously, so a population count of the
//! bits below the position gives the index of the child or leaf. Prefixes
//! whose length is not a multiple of the stride are expanded over the
//! positions they cover, more specific prefixes overwriting less specific
//! ones, so every leaf holds the most specific prefix for its range.
//!
//! One addition to the published design is path compression, for sparse
//! IPv6 tables: when every longer prefix below a node shares its next bits,
//! the node skips them, comparing them at once with the bits it stores, and
//! a mismatch ends the lookup with an extra leaf stored first among the
//! node's leaves. Another is that a node fills one cache line and holds up
//! to eight leaves itself, so most lookups read no separate leaf array.

use std::marker::PhantomData;
use std::mem::size_of;

/// The number of address bits consumed by one node.
const STRIDE: u32 = 6;

/// Marks a direct-pointing entry that is a leaf rather than a node index.
const LEAF_FLAG: u32 = 1 << 31;

/// The slot returned when no prefix matches. Every real slot is smaller.
pub(crate) const NO_SLOT: u32 = LEAF_FLAG - 1;

/// The fewest leading bits resolved by the direct-pointing array.
const MIN_DIRECT_BITS: u32 = 8;

/// The number of lookups that `Poptrie::lookup_many` runs in lockstep.
const LANES: usize = 32;

/// The most leaves a node holds inline.
const INLINE_LEAVES: usize = 8;

/// The most bits a node can skip.
const MAX_SKIP: u32 = 31;

/// An unsigned integer holding an address, most significant bit first.
pub(crate) trait Key: Copy {
    /// How many more bits than the bit length of the number of prefixes
    /// the direct-pointing array resolves.
    const EXTRA_DIRECT_BITS: u32;

    /// The most leading bits resolved by the direct-pointing array.
    const MAX_DIRECT_BITS: u32;

    /// The `width` bits that start `offset` bits from the most significant
    /// end, padded with zero bits past the end of the key. Requires `offset`
    /// to be below the key's bit count and `width` to lie between 1 and the
    /// bit count.
    fn extract(self, offset: u32, width: u32) -> usize;

    /// The number of leading bits from `offset` on that the keys share;
    /// `offset` must be below the key's bit count.
    fn common_bits(self, other: Self, offset: u32) -> u32;

    /// The 32 bits that start `offset` bits from the most significant end,
    /// padded with zero bits past the end of the key; `offset` must be below
    /// the key's bit count.
    fn window(self, offset: u32) -> u32;
}

impl Key for u32 {
    const EXTRA_DIRECT_BITS: u32 = 1;
    const MAX_DIRECT_BITS: u32 = 18;

    #[inline]
    fn extract(self, offset: u32, width: u32) -> usize {
        ((self << offset) >> (Self::BITS - width)) as usize
    }

    fn common_bits(self, other: Self, offset: u32) -> u32 {
        ((self ^ other) << offset).leading_zeros()
    }

    #[inline]
    fn window(self, offset: u32) -> u32 {
        self << offset
    }
}

impl Key for u128 {
    /// Global unicast space is only 2000::/3, so IPv6 uses three more bits
    /// than IPv4 to spread its prefixes as widely.
    const EXTRA_DIRECT_BITS: u32 = 3 + 1;
    const MAX_DIRECT_BITS: u32 = 22;

    #[inline]
    fn extract(self, offset: u32, width: u32) -> usize {
        ((self << offset) >> (Self::BITS - width)) as usize
    }

    fn common_bits(self, other: Self, offset: u32) -> u32 {
        ((self ^ other) << offset).leading_zeros()
    }

    #[inline]
    fn window(self, offset: u32) -> u32 {
        ((self << offset) >> 96) as u32
    }
}

/// A prefix to store: the key with its host bits cleared, the prefix length
/// and the slot that a lookup returns for addresses it matches best.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prefix<K> {
    pub(crate) key: K,
    pub(crate) len: u8,
    pub(crate) slot: u32,
}

impl<K: Key> Prefix<K> {
    fn len(&self) -> u32 {
        u32::from(self.len)
    }
}

/// A node fills one cache line, so that a lookup ending in it finds its
/// leaf in the same line whenever the leaves fit inline.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
struct Node {
    /// Bit `p` is set when position `p` continues in a child node.
    children: u64,
    /// Bit `p` is set when position `p` holds no child and starts a run of
    /// equal leaves.
    leaves: u64,
    /// The index in `nodes` of the first child.
    child_base: u32,
    /// The index in the trie's `leaves` of the node's first leaf when they
    /// do not fit inline, and zero otherwise.
    leaf_base: u32,
    /// The bits to compare before reading the node's own six bits, in the
    /// high `skip` bits; the other bits are zero.
    skip_bits: u32,
    /// The number of bits skipped, at most `MAX_SKIP`.
    skip: u8,
    /// Whether the leaves are in `inline` rather than in the trie's `leaves`.
    is_inline: bool,
    /// The node's leaves when there are at most `INLINE_LEAVES` of them.
    ///
    /// A node's leaves start with the result for keys whose skipped bits
    /// differ, if the node skips bits, followed by one leaf per run.
    inline: [u32; INLINE_LEAVES],
}

/// Where one step of a lookup leads.
enum Step {
    /// Continue at the node with this index.
    Node(usize),
    /// The lookup ends with this slot.
    Leaf(u32),
}

/// An immutable longest-prefix-match structure over keys of type `K`.
#[derive(Clone, Debug)]
pub(crate) struct Poptrie<K> {
    /// The number of leading bits that index `direct`.
    direct_bits: u32,
    /// Indexed by the first `direct_bits` bits: a node index, or a slot with
    /// `LEAF_FLAG` set. Empty when the trie holds no prefix.
    direct: Vec<u32>,
    nodes: Vec<Node>,
    leaves: Vec<u32>,
    key: PhantomData<K>,
}

impl<K: Key> Poptrie<K> {
    /// Builds the trie from distinct prefixes sorted by key and then by
    /// length, each with a slot smaller than `NO_SLOT`.
    pub(crate) fn build(prefixes: &[Prefix<K>]) -> Self {
        let significant = usize::BITS - prefixes.len().leading_zeros();
        let direct_bits = (significant + K::EXTRA_DIRECT_BITS).clamp(MIN_DIRECT_BITS, K::MAX_DIRECT_BITS);
        let mut trie =
            Self { direct_bits, direct: Vec::new(), nodes: Vec::new(), leaves: Vec::new(), key: PhantomData };
        if prefixes.is_empty() {
            return trie;
        }
        // Lookups that end in a node with inline leaves also read the
        // external leaf at the same rank, below `INLINE_LEAVES`, to avoid a
        // branch; these leaves keep that read in bounds.
        trie.leaves = vec![NO_SLOT; INLINE_LEAVES];
        let mut defaults = vec![NO_SLOT; 1 << direct_bits];
        let mut short: Vec<Prefix<K>> = prefixes.iter().filter(|p| p.len() <= direct_bits).copied().collect();
        short.sort_by_key(|p| p.len);
        for prefix in &short {
            paint(&mut defaults, prefix, 0, direct_bits);
        }
        trie.direct = defaults.iter().map(|&slot| slot | LEAF_FLAG).collect();

        let deeper =
            |a: &Prefix<K>, b: &Prefix<K>| a.key.extract(0, direct_bits) == b.key.extract(0, direct_bits);
        for group in prefixes.chunk_by(deeper) {
            if group.iter().all(|p| p.len() <= direct_bits) {
                continue;
            }
            let index = group[0].key.extract(0, direct_bits);
            let node = trie.nodes.len();
            trie.nodes.push(Node::default());
            trie.fill(node, group, direct_bits, defaults[index]);
            trie.direct[index] = to_u32(node);
        }
        trie.nodes.shrink_to_fit();
        trie.leaves.shrink_to_fit();
        trie
    }

    /// Fills node `node`, which covers the bits from `offset` of the keys in
    /// `prefixes`. All of them share their first `offset` bits; those no
    /// longer than `offset` were resolved higher up and are ignored here,
    /// their best match being `default`.
    fn fill(&mut self, node: usize, prefixes: &[Prefix<K>], offset: u32, default: u32) {
        let (skip, skip_bits) = skippable(prefixes, offset);
        let offset = offset + skip;
        let end = offset + STRIDE;
        let mut leaf = [default; 64];
        for len in offset + 1..=end {
            for prefix in prefixes.iter().filter(|p| p.len() == len) {
                paint(&mut leaf, prefix, offset, STRIDE);
            }
        }

        let same_position =
            |a: &Prefix<K>, b: &Prefix<K>| a.key.extract(offset, STRIDE) == b.key.extract(offset, STRIDE);
        let has_deeper = |group: &[Prefix<K>]| group.iter().any(|p| p.len() > end);
        let mut children = 0u64;
        for group in prefixes.chunk_by(same_position).filter(|g| has_deeper(g)) {
            children |= 1 << group[0].key.extract(offset, STRIDE);
        }
        let child_base = self.nodes.len();
        let child_count = children.count_ones() as usize;
        self.nodes.resize(child_base + child_count, Node::default());

        let mut runs = Vec::with_capacity(INLINE_LEAVES);
        if skip > 0 {
            runs.push(default);
        }
        let mut leaves = 0u64;
        let mut previous = None;
        for (position, &slot) in leaf.iter().enumerate() {
            if children & (1 << position) == 0 && previous != Some(slot) {
                runs.push(slot);
                leaves |= 1 << position;
                previous = Some(slot);
            }
        }
        let mut inline = [NO_SLOT; INLINE_LEAVES];
        let is_inline = runs.len() <= INLINE_LEAVES;
        let leaf_base = if is_inline {
            inline[..runs.len()].copy_from_slice(&runs);
            0
        } else {
            let base = self.leaves.len();
            self.leaves.extend(&runs);
            base
        };
        self.nodes[node] = Node {
            children,
            leaves,
            child_base: to_u32(child_base),
            leaf_base: to_u32(leaf_base),
            skip_bits,
            skip: skip as u8,
            is_inline,
            inline,
        };

        let groups = prefixes.chunk_by(same_position).filter(|g| has_deeper(g));
        for (child, group) in (child_base..).zip(groups) {
            let position = group[0].key.extract(offset, STRIDE);
            self.fill(child, group, end, leaf[position]);
        }
    }

    /// The slot of the most specific prefix matching `key`, or `NO_SLOT`.
    #[inline]
    pub(crate) fn lookup(&self, key: K) -> u32 {
        let mut node = match self.enter(key) {
            Step::Node(index) => self.nodes[index],
            Step::Leaf(slot) => return slot,
        };
        let mut offset = self.direct_bits;
        loop {
            match self.descend(&node, key, &mut offset) {
                Step::Node(index) => node = self.nodes[index],
                Step::Leaf(slot) => return slot,
            }
        }
    }

    /// Looks up many keys at once, writing the slot of `keys[i]` to
    /// `slots[i]`.
    ///
    /// The lookups advance in lockstep, one trie level per round, so the
    /// processor fetches the nodes of several keys from memory at the same
    /// time instead of waiting for each in turn; branches depend only on
    /// nodes fetched a round earlier.
    pub(crate) fn lookup_many(&self, keys: &[K], slots: &mut [u32]) {
        for (keys, slots) in keys.chunks(LANES).zip(slots.chunks_mut(LANES)) {
            let mut nodes = [Node::default(); LANES];
            let mut offsets = [self.direct_bits; LANES];
            let mut active = [0; LANES];
            let mut count = 0;
            for (lane, (&key, slot)) in keys.iter().zip(slots.iter_mut()).enumerate() {
                match self.enter(key) {
                    Step::Node(index) => {
                        nodes[lane] = self.nodes[index];
                        active[count] = lane;
                        count += 1;
                    }
                    Step::Leaf(found) => *slot = found,
                }
            }
            while count > 0 {
                let mut still = 0;
                for i in 0..count {
                    let lane = active[i];
                    match self.descend(&nodes[lane], keys[lane], &mut offsets[lane]) {
                        Step::Node(index) => {
                            nodes[lane] = self.nodes[index];
                            active[still] = lane;
                            still += 1;
                        }
                        Step::Leaf(found) => slots[lane] = found,
                    }
                }
                count = still;
            }
        }
    }

    /// The first step of a lookup: the direct-pointing array.
    #[inline(always)]
    fn enter(&self, key: K) -> Step {
        match self.direct.get(key.extract(0, self.direct_bits)) {
            Some(&entry) if entry & LEAF_FLAG == 0 => Step::Node(entry as usize),
            Some(&entry) => Step::Leaf(entry & !LEAF_FLAG),
            None => Step::Leaf(NO_SLOT),
        }
    }

    /// One step down from `node`, which starts at bit `offset` of `key`.
    ///
    /// The only branch taken on the node's contents is whether the lookup
    /// goes on, so that a lookup mispredicts at most once per level.
    #[inline(always)]
    fn descend(&self, node: &Node, key: K, offset: &mut u32) -> Step {
        let skip = u32::from(node.skip);
        let skipped_mask = !(u32::MAX >> skip);
        let mismatch = (key.window(*offset) ^ node.skip_bits) & skipped_mask != 0;
        let start = *offset + skip;
        let bit = 1u64 << key.extract(start, STRIDE);
        if !mismatch && node.children & bit != 0 {
            *offset = start + STRIDE;
            let below = (node.children & (bit - 1)).count_ones();
            Step::Node((node.child_base + below) as usize)
        } else {
            // A mismatch in the skipped bits selects the first leaf; without
            // one, the leaf of the run holding the position.
            let rank = if mismatch {
                0
            } else {
                u32::from(node.skip != 0) + (node.leaves & (bit | (bit - 1))).count_ones() - 1
            };
            let inline = node.inline[rank as usize % INLINE_LEAVES];
            let external = self.leaves[(node.leaf_base + rank) as usize];
            Step::Leaf(if node.is_inline { inline } else { external })
        }
    }

    /// The heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.direct.capacity() * size_of::<u32>()
            + self.nodes.capacity() * size_of::<Node>()
            + self.leaves.capacity() * size_of::<u32>()
    }

    /// The number of nodes below the direct-pointing array.
    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// How many bits from `offset` on a node for `prefixes` can skip, and their
/// value: those that every prefix longer than `offset` shares, stopping
/// before the end of the shortest of them, so that none ends among the
/// skipped bits.
fn skippable<K: Key>(prefixes: &[Prefix<K>], offset: u32) -> (u32, u32) {
    let mut deeper = prefixes.iter().filter(|p| p.len() > offset);
    let Some(first) = deeper.next() else {
        return (0, 0);
    };
    let mut last = first;
    let mut shortest = first.len();
    for prefix in deeper {
        last = prefix;
        shortest = shortest.min(prefix.len());
    }
    // The keys are sorted, so all of them share what the extremes share.
    let skip = first.key.common_bits(last.key, offset).min(shortest - offset - 1).min(MAX_SKIP);
    (skip, first.key.window(offset) & !(u32::MAX >> skip))
}

/// Writes the prefix's slot over every position of `targets` that it covers,
/// where `targets` has one position for each value of the `width` bits from
/// `offset`. The prefix length must lie in `offset..=offset + width`.
fn paint<K: Key>(targets: &mut [u32], prefix: &Prefix<K>, offset: u32, width: u32) {
    let fixed = prefix.len() - offset;
    let start = if fixed == 0 { 0 } else { prefix.key.extract(offset, fixed) << (width - fixed) };
    targets[start..start + (1 << (width - fixed))].fill(prefix.slot);
}

/// Converts an index that the builder keeps below `LEAF_FLAG`.
fn to_u32(index: usize) -> u32 {
    u32::try_from(index)
        .ok()
        .filter(|&index| index < LEAF_FLAG)
        .expect("a poptrie holds fewer than 2^31 nodes and leaves")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(key: u32, len: u8, slot: u32) -> Prefix<u32> {
        Prefix { key, len, slot }
    }

    #[test]
    fn empty_trie_matches_nothing() {
        let trie = Poptrie::<u128>::build(&[]);
        assert_eq!(trie.lookup(0), NO_SLOT);
        assert_eq!(trie.lookup(u128::MAX), NO_SLOT);
        assert_eq!(trie.memory_bytes(), 0);
    }

    #[test]
    fn nested_prefixes_resolve_to_the_most_specific() {
        let prefixes = [
            prefix(0, 0, 0),
            prefix(0x0a00_0000, 8, 1),
            prefix(0x0a01_0000, 16, 2),
            prefix(0x0a01_0200, 23, 3),
            prefix(0x0a01_0300, 24, 4),
            prefix(0x0a01_0380, 25, 5),
            prefix(0x0a01_0381, 32, 6),
        ];
        let trie = Poptrie::build(&prefixes);
        assert_eq!(trie.lookup(0x0b00_0000), 0);
        assert_eq!(trie.lookup(0x0a02_0000), 1);
        assert_eq!(trie.lookup(0x0a01_0000), 2);
        assert_eq!(trie.lookup(0x0a01_0201), 3);
        assert_eq!(trie.lookup(0x0a01_0301), 4);
        assert_eq!(trie.lookup(0x0a01_0380), 5);
        assert_eq!(trie.lookup(0x0a01_0381), 6);
        assert_eq!(trie.lookup(0x0a01_0382), 5);
        assert_eq!(trie.lookup(0x0a01_0400), 2);
    }

    #[test]
    fn leaves_are_compressed_and_paths_skipped() {
        let trie = Poptrie::build(&[prefix(0x0a01_0000, 24, 0)]);
        // One node below 10.0.0.0/8 skips fifteen bits and reads the next
        // six; its leaves are the miss leaf, then runs of the /24 and of
        // nothing.
        assert_eq!(trie.node_count(), 1);
        assert!(trie.nodes[0].is_inline);
        assert_eq!(trie.nodes[0].inline[..3], [NO_SLOT, 0, NO_SLOT]);
        assert_eq!(trie.lookup(0x0a01_00ff), 0);
        assert_eq!(trie.lookup(0x0a01_0100), NO_SLOT);
        assert_eq!(trie.lookup(0x0a01_0800), NO_SLOT);
        assert_eq!(trie.lookup(0x0a01_3f00), NO_SLOT);
    }

    #[test]
    fn direct_array_grows_with_the_table() {
        let small: Vec<_> = (0..1000).map(|i| prefix(i << 8, 24, i)).collect();
        assert_eq!(Poptrie::build(&small).direct_bits, 11);
        assert_eq!(Poptrie::build(&small[..1]).direct_bits, MIN_DIRECT_BITS);
        let large: Vec<_> = (0..1 << 20).map(|i| prefix(i << 8, 24, i)).collect();
        let trie = Poptrie::build(&large);
        assert_eq!(trie.direct_bits, 18);
        assert_eq!(trie.lookup(0x00ab_cdef), 0xabcd);
    }

    #[test]
    fn sparse_ipv6_prefixes_need_few_nodes() {
        let base = 0x2001_0db8_0001_0002_u128 << 64;
        let trie = Poptrie::build(&[
            Prefix { key: base, len: 64, slot: 0 },
            Prefix { key: base | (1 << 60), len: 68, slot: 1 },
        ]);
        assert_eq!(trie.node_count(), 2);
        assert_eq!(trie.lookup(base | 1), 0);
        assert_eq!(trie.lookup(base | (1 << 60) | 1), 1);
        assert_eq!(trie.lookup(base | (1 << 61)), 0);
        assert_eq!(trie.lookup(base ^ (1 << 64)), NO_SLOT);
        assert_eq!(trie.lookup(base ^ (1 << 100)), NO_SLOT);
        assert_eq!(trie.lookup(0), NO_SLOT);
    }
}
