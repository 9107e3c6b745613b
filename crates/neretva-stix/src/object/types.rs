//! The type-specific properties of the object types Neretva reads and writes.

use serde_json::{Map, Value};

use crate::object::property::{
    Count, Ctx, Dictionary, Hashes, Identifier, KillChainPhase, NonNegative, ObservedCount, Path, Port,
    Property, StixTimestamp,
};

/// Declares the type-specific properties of one object type, read from and written to the
/// object's JSON properties (what it does not name stays for the custom properties).
macro_rules! stix_type {
    ($(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $mode:ident $ty:ty = $key:literal ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: crate::object::field_type!($mode $ty), )*
        }

        impl $name {
            pub(crate) fn read(map: &mut crate::object::Fields<'_>, ctx: &mut Ctx<'_>) -> Option<Self> {
                let root = Path::Root(ctx.base);
                $( let $field = crate::object::read_field!($mode $ty, map, $key, ctx, &Path::Key(&root, $key)); )*
                Some($name { $( $field: $field?, )* })
            }

            pub(crate) fn write(&self, out: &mut Map<String, Value>) {
                $( crate::object::write_field!($mode &self.$field, out, $key); )*
            }
        }
    };
}

stix_type! {
    /// `attack-pattern`: a way adversaries attempt to compromise targets.
    AttackPattern {
        name: req String = "name",
        description: opt String = "description",
        aliases: list String = "aliases",
        kill_chain_phases: list KillChainPhase = "kill_chain_phases",
    }
}

stix_type! {
    /// `campaign`: a grouping of adversarial behaviours over time.
    Campaign {
        name: req String = "name",
        description: opt String = "description",
        aliases: list String = "aliases",
        first_seen: opt StixTimestamp = "first_seen",
        last_seen: opt StixTimestamp = "last_seen",
        objective: opt String = "objective",
    }
}

stix_type! {
    /// `grouping`: objects shared together in a context.
    Grouping {
        name: opt String = "name",
        description: opt String = "description",
        context: req String = "context",
        object_refs: req_list Identifier = "object_refs",
    }
}

stix_type! {
    /// `identity`: an individual, organisation, group or system.
    Identity {
        name: req String = "name",
        description: opt String = "description",
        roles: list String = "roles",
        identity_class: opt String = "identity_class",
        sectors: list String = "sectors",
        contact_information: opt String = "contact_information",
    }
}

stix_type! {
    /// `indicator`: a pattern for detecting suspicious or malicious activity.
    Indicator {
        name: opt String = "name",
        description: opt String = "description",
        indicator_types: list String = "indicator_types",
        pattern: req String = "pattern",
        pattern_type: req String = "pattern_type",
        pattern_version: opt String = "pattern_version",
        valid_from: req StixTimestamp = "valid_from",
        valid_until: opt StixTimestamp = "valid_until",
        kill_chain_phases: list KillChainPhase = "kill_chain_phases",
    }
}

stix_type! {
    /// `malware`: a malware instance or family.
    Malware {
        name: opt String = "name",
        description: opt String = "description",
        malware_types: list String = "malware_types",
        is_family: req bool = "is_family",
        aliases: list String = "aliases",
        kill_chain_phases: list KillChainPhase = "kill_chain_phases",
        first_seen: opt StixTimestamp = "first_seen",
        last_seen: opt StixTimestamp = "last_seen",
        operating_system_refs: list Identifier = "operating_system_refs",
        architecture_execution_envs: list String = "architecture_execution_envs",
        implementation_languages: list String = "implementation_languages",
        capabilities: list String = "capabilities",
        sample_refs: list Identifier = "sample_refs",
    }
}

stix_type! {
    /// `marking-definition`: a data marking (TLP, PAP, a statement).
    MarkingDefinition {
        name: opt String = "name",
        definition_type: opt String = "definition_type",
        definition: opt Dictionary = "definition",
    }
}

stix_type! {
    /// `note`: analysis or commentary about other objects.
    Note {
        abstract_: opt String = "abstract",
        content: req String = "content",
        authors: list String = "authors",
        object_refs: req_list Identifier = "object_refs",
    }
}

stix_type! {
    /// `observed-data`: cyber-observable objects seen during a time window.
    ObservedData {
        first_observed: req StixTimestamp = "first_observed",
        last_observed: req StixTimestamp = "last_observed",
        number_observed: req ObservedCount = "number_observed",
        /// The deprecated embedded objects.
        objects: opt Dictionary = "objects",
        object_refs: list Identifier = "object_refs",
    }
}

stix_type! {
    /// `relationship`: a link between two objects.
    Relationship {
        relationship_type: req String = "relationship_type",
        description: opt String = "description",
        source_ref: req Identifier = "source_ref",
        target_ref: req Identifier = "target_ref",
        start_time: opt StixTimestamp = "start_time",
        stop_time: opt StixTimestamp = "stop_time",
    }
}

stix_type! {
    /// `report`: a collection of threat intelligence on a topic.
    Report {
        name: req String = "name",
        description: opt String = "description",
        report_types: list String = "report_types",
        published: req StixTimestamp = "published",
        object_refs: req_list Identifier = "object_refs",
    }
}

stix_type! {
    /// `sighting`: something was seen.
    Sighting {
        description: opt String = "description",
        first_seen: opt StixTimestamp = "first_seen",
        last_seen: opt StixTimestamp = "last_seen",
        count: opt Count = "count",
        sighting_of_ref: req Identifier = "sighting_of_ref",
        observed_data_refs: list Identifier = "observed_data_refs",
        where_sighted_refs: list Identifier = "where_sighted_refs",
        summary: opt bool = "summary",
    }
}

stix_type! {
    /// `threat-actor`: an actor with malicious intent.
    ThreatActor {
        name: req String = "name",
        description: opt String = "description",
        threat_actor_types: list String = "threat_actor_types",
        aliases: list String = "aliases",
        first_seen: opt StixTimestamp = "first_seen",
        last_seen: opt StixTimestamp = "last_seen",
        roles: list String = "roles",
        goals: list String = "goals",
        sophistication: opt String = "sophistication",
        resource_level: opt String = "resource_level",
        primary_motivation: opt String = "primary_motivation",
        secondary_motivations: list String = "secondary_motivations",
        personal_motivations: list String = "personal_motivations",
    }
}

stix_type! {
    /// `vulnerability`: a mistake in software that can be exploited.
    Vulnerability {
        name: req String = "name",
        description: opt String = "description",
    }
}

stix_type! {
    /// `ipv4-addr` and `ipv6-addr`: an address or a CIDR network.
    IpAddress {
        value: req String = "value",
        resolves_to_refs: list Identifier = "resolves_to_refs",
        belongs_to_refs: list Identifier = "belongs_to_refs",
    }
}

stix_type! {
    /// `domain-name`.
    DomainName {
        value: req String = "value",
        resolves_to_refs: list Identifier = "resolves_to_refs",
    }
}

stix_type! {
    /// `url`.
    Url {
        value: req String = "value",
    }
}

stix_type! {
    /// `email-addr`.
    EmailAddress {
        value: req String = "value",
        display_name: opt String = "display_name",
        belongs_to_ref: opt Identifier = "belongs_to_ref",
    }
}

stix_type! {
    /// `mac-addr`.
    MacAddress {
        value: req String = "value",
    }
}

stix_type! {
    /// `autonomous-system`.
    AutonomousSystem {
        number: req NonNegative = "number",
        name: opt String = "name",
        rir: opt String = "rir",
    }
}

stix_type! {
    /// `file`.
    File {
        hashes: opt Hashes = "hashes",
        size: opt NonNegative = "size",
        name: opt String = "name",
        name_enc: opt String = "name_enc",
        magic_number_hex: opt String = "magic_number_hex",
        mime_type: opt String = "mime_type",
        ctime: opt StixTimestamp = "ctime",
        mtime: opt StixTimestamp = "mtime",
        atime: opt StixTimestamp = "atime",
        parent_directory_ref: opt Identifier = "parent_directory_ref",
        contains_refs: list Identifier = "contains_refs",
        content_ref: opt Identifier = "content_ref",
    }
}

stix_type! {
    /// `network-traffic`.
    NetworkTraffic {
        start: opt StixTimestamp = "start",
        end: opt StixTimestamp = "end",
        is_active: opt bool = "is_active",
        src_ref: opt Identifier = "src_ref",
        dst_ref: opt Identifier = "dst_ref",
        src_port: opt Port = "src_port",
        dst_port: opt Port = "dst_port",
        protocols: req_list String = "protocols",
        src_byte_count: opt NonNegative = "src_byte_count",
        dst_byte_count: opt NonNegative = "dst_byte_count",
        src_packets: opt NonNegative = "src_packets",
        dst_packets: opt NonNegative = "dst_packets",
        ipfix: opt Dictionary = "ipfix",
        src_payload_ref: opt Identifier = "src_payload_ref",
        dst_payload_ref: opt Identifier = "dst_payload_ref",
        encapsulates_refs: list Identifier = "encapsulates_refs",
        encapsulated_by_ref: opt Identifier = "encapsulated_by_ref",
    }
}
