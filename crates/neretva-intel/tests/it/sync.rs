use neretva_intel::access::SharingGroup;
use neretva_intel::model::{AttrDistribution, Distribution};
use neretva_intel::sync::{Peer, after_pull, for_push};
use uuid::Uuid;

use crate::sample_events;

fn sample() -> neretva_intel::model::IntelEvent {
    sample_events().into_iter().find(|event| event.info.starts_with("Loader")).unwrap()
}

#[test]
fn push_follows_the_distribution_table() {
    let peer = Peer { org: Uuid::from_u128(99), internal: false };
    let mut event = sample();
    // All communities: sent as it is, without the attribute restricted to this community.
    let pushed = for_push(&event, &peer, &[]).unwrap();
    assert_eq!(pushed.distribution, Distribution::All);
    assert!(
        pushed.attributes.iter().all(|a| a.distribution != AttrDistribution::Level(Distribution::Community))
    );
    assert_eq!(pushed.attributes.len(), event.attributes.len() - 1);
    let internal = for_push(&event, &Peer { internal: true, ..peer }, &[]).unwrap();
    assert_eq!(internal.attributes.len(), event.attributes.len());
    // Connected communities go out as this community; community and organisation stay home.
    event.distribution = Distribution::Connected;
    assert_eq!(for_push(&event, &peer, &[]).unwrap().distribution, Distribution::Community);
    event.distribution = Distribution::Community;
    assert_eq!(for_push(&event, &peer, &[]), None);
    event.distribution = Distribution::Organisation;
    assert_eq!(for_push(&event, &Peer { internal: true, ..peer }, &[]), None);
    // A sharing group reaches its members only.
    let group = SharingGroup {
        uuid: Uuid::from_u128(7),
        name: "g".into(),
        description: String::new(),
        owner_org: Uuid::from_u128(1),
        members: vec![Uuid::from_u128(99)],
        confidential: true,
    };
    event.distribution = Distribution::SharingGroup;
    event.sharing_group = Some(group.uuid);
    assert!(for_push(&event, &peer, std::slice::from_ref(&group)).is_some());
    assert_eq!(
        for_push(&event, &Peer { org: Uuid::from_u128(98), ..peer }, std::slice::from_ref(&group)),
        None
    );
    assert_eq!(for_push(&event, &peer, &[]), None);
    // Unpublished events are never pushed.
    event.published = false;
    assert_eq!(for_push(&event, &peer, std::slice::from_ref(&group)), None);
}

#[test]
fn pull_narrows_one_step() {
    let mut event = sample();
    event.distribution = Distribution::Connected;
    let pulled = after_pull(&event, false);
    assert_eq!(pulled.distribution, Distribution::Community);
    let restricted = pulled.attributes.iter().find(|a| a.value == "45.142.212.0/24").unwrap();
    assert_eq!(restricted.distribution, AttrDistribution::Level(Distribution::Organisation));
    assert_eq!(after_pull(&event, true).distribution, Distribution::Connected);
    event.distribution = Distribution::All;
    assert_eq!(after_pull(&event, false).distribution, Distribution::All);
}
