use expect_test::expect;
use neretva_intel::feed::write_feed;

use crate::sample_events;

#[test]
fn a_feed_has_a_manifest_hashes_and_one_file_per_published_event() {
    let events = sample_events();
    let files = write_feed(&events);
    let names: Vec<&str> = files.iter().map(|file| file.name.as_str()).collect();
    expect![[r#"
        ["manifest.json", "hashes.csv", "a0000000-0000-4000-8000-000000000001.json", "b3f1c2d4-6a7e-4f10-8c2b-5d4e3f2a1b0c.json"]
    "#]]
    .assert_eq(&format!("{names:?}\n"));
    let manifest: serde_json::Value = serde_json::from_slice(&files[0].bytes).unwrap();
    assert_eq!(manifest["b3f1c2d4-6a7e-4f10-8c2b-5d4e3f2a1b0c"]["Orgc"]["name"], "Partner CERT");
    assert_eq!(manifest["b3f1c2d4-6a7e-4f10-8c2b-5d4e3f2a1b0c"]["timestamp"], "1710255600");
    let hashes = String::from_utf8(files[1].bytes.clone()).unwrap();
    // md5("91.215.85.17"), for the address of ip-dst|port and of the domain-ip object.
    assert!(
        hashes
            .lines()
            .any(|line| line == format!("{},b3f1c2d4-6a7e-4f10-8c2b-5d4e3f2a1b0c", md5_of("91.215.85.17")))
    );
    // The deleted attribute is not published.
    assert!(!hashes.contains(&md5_of("CVE-2023-36884")));
    let event: serde_json::Value = serde_json::from_slice(&files[3].bytes).unwrap();
    assert_eq!(event["Event"]["uuid"], "b3f1c2d4-6a7e-4f10-8c2b-5d4e3f2a1b0c");
    // Unpublished events are not in the feed; local tags never leave.
    assert!(!names.iter().any(|name| name.starts_with("5e0f9b1c")));
    assert!(files.iter().all(|file| !String::from_utf8_lossy(&file.bytes).contains("triage:pending")));
}

fn md5_of(text: &str) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(text.as_bytes()))
}
