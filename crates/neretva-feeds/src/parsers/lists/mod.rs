//! Block lists and other line-oriented feeds, one module per feed, each following the
//! IntelMQ 3.5.0 parser bot of the same feed field for field (the module documentation
//! names the bot and every deliberate difference).
//!
//! Common to all of them:
//! - Lines are cut as IntelMQ cuts them (Python's `splitlines`, so `\r`, `\v`, `\f`,
//!   U+0085, U+2028 and U+2029 end lines too) and stripped where IntelMQ strips them, so
//!   `raw` is byte for byte what IntelMQ puts into its `raw` field.
//! - A line that is not valid UTF-8 is an error of its own (IntelMQ silently drops the
//!   undecodable bytes and parses what is left).
//! - A line whose indicator (address, network, AS, URL or domain) is empty, `-` or `N/A`
//!   is an error; IntelMQ ignores such a value and emits an event without an indicator.
//! - A value IntelMQ ignores (`-`, `N/A`) where a list's indicator belongs is an error,
//!   not an event without an indicator.
//! - A bad line is a [`crate::ParseError`] and never stops the report; IntelMQ's bots that
//!   override `process()` (CINS Army, DShield, OpenPhish) instead fail the whole report
//!   on a bad line.

pub(crate) mod support;
pub(crate) mod timefmt;

mod alienvault;
mod bambenek;
mod blocklistde;
mod ci_army;
mod cymru_cap;
mod cymru_full_bogons;
mod danger_rulez;
mod dataplane;
mod dshield_asn;
mod dshield_block;
mod fraunhofer_dga;
mod malwarepatrol;
mod openphish;
mod openphish_commercial;
mod spamhaus_cert;
mod spamhaus_drop;
mod surbl;
mod vxvault;

pub use alienvault::AlienVault;
pub use bambenek::Bambenek;
pub use blocklistde::BlocklistDe;
pub use ci_army::CiArmy;
pub use cymru_cap::CymruCap;
pub use cymru_full_bogons::CymruFullBogons;
pub use danger_rulez::DangerRulez;
pub use dataplane::Dataplane;
pub use dshield_asn::DshieldAsn;
pub use dshield_block::DshieldBlock;
pub use fraunhofer_dga::FraunhoferDga;
pub use malwarepatrol::MalwarePatrol;
pub use openphish::OpenPhish;
pub use openphish_commercial::OpenPhishCommercial;
pub use spamhaus_cert::SpamhausCert;
pub use spamhaus_drop::SpamhausDrop;
pub use surbl::Surbl;
pub use vxvault::VxVault;

use crate::FeedParser;

pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![
        Box::new(AlienVault),
        Box::new(Bambenek),
        Box::new(BlocklistDe),
        Box::new(CiArmy),
        Box::new(CymruCap),
        Box::new(CymruFullBogons),
        Box::new(DangerRulez),
        Box::new(Dataplane),
        Box::new(DshieldAsn),
        Box::new(DshieldBlock),
        Box::new(FraunhoferDga),
        Box::new(MalwarePatrol),
        Box::new(OpenPhish),
        Box::new(OpenPhishCommercial),
        Box::new(SpamhausCert),
        Box::new(SpamhausDrop),
        Box::new(Surbl),
        Box::new(VxVault),
    ]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::parsers::lists::support::cases;
    use crate::{FeedParser, Report};

    fn parser(name: &str) -> Box<dyn FeedParser> {
        super::all()
            .into_iter()
            .find(|parser| parser.name() == name)
            .unwrap_or_else(|| panic!("no parser {name} in the lists group"))
    }

    #[test]
    fn cases() {
        cases::check_all("lists", |case| parser(&case.parser));
    }

    #[test]
    fn every_parser_has_cases() {
        let with_cases: Vec<String> = cases::list("lists").into_iter().map(|c| c.parser).collect();
        for parser in super::all() {
            assert!(
                with_cases.iter().any(|name| name == parser.name()),
                "{} has no cases in test_data/lists",
                parser.name()
            );
        }
    }

    /// The good inputs of the cases, with their report metadata, to mutate.
    fn samples() -> Vec<(String, Option<String>, Vec<u8>)> {
        cases::list("lists")
            .into_iter()
            .map(|case| {
                let url = case.meta("feed.url").map(str::to_owned);
                (case.parser, url, case.raw)
            })
            .collect()
    }

    fn report(url: Option<String>, raw: Vec<u8>) -> Report {
        let mut report = Report::new("fuzz", None, raw);
        report.feed_url = url;
        report
    }

    const URLS: &[&str] = &[
        "https://www.spamhaus.org/drop/asndrop.txt",
        "https://lists.blocklist.de/lists/ssh.txt",
        "https://dshield.org/asdetailsascii.html?as=1",
        "https://osint.bambenekconsulting.com/feeds/dga-feed.txt",
        "https://osint.bambenekconsulting.com/feeds/c2-ipmasterlist.txt",
        "https://portal.spamhaus.org/cert/api.php?cert=cert&key=secret",
        "https://lists.malwarepatrol.net/cgi/getfile?receipt=secret&product=8&list=dansguardian",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Arbitrary bytes never make a parser panic, whatever the URL.
        #[test]
        fn arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..512), url in 0..8usize) {
            for parser in super::all() {
                let parsed = parser.parse(&report(URLS.get(url).map(|u| (*u).to_owned()), raw.clone()));
                prop_assert!(parsed.errors.iter().all(|e| e.line >= 1 && e.raw.len() <= 4096));
                for event in &parsed.events {
                    let raw = event.event.raw();
                    prop_assert_eq!(raw.as_deref(), Some(event.raw.as_bytes()));
                }
            }
        }

        /// Good inputs with bytes replaced, inserted or removed never make a parser panic.
        #[test]
        fn mutated_samples(
            pick in any::<proptest::sample::Index>(),
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0..3u8), 1..12),
        ) {
            let samples = samples();
            let (name, url, mut raw) = samples[pick.index(samples.len())].clone();
            for (at, byte, kind) in edits {
                let index = at.index(raw.len() + 1);
                match kind {
                    0 if index < raw.len() => raw[index] = byte,
                    1 => raw.insert(index, byte),
                    _ if index < raw.len() => {
                        raw.remove(index);
                    }
                    _ => raw.push(byte),
                }
            }
            let parsed = parser(&name).parse(&report(url, raw));
            for event in &parsed.events {
                let raw = event.event.raw();
                prop_assert_eq!(raw.as_deref(), Some(event.raw.as_bytes()));
            }
        }
    }
}
