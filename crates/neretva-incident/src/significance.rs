//! Is an incident significant? NIS2 Art. 23(3) and Implementing Regulation (EU) 2024/2690.
//!
//! The criteria are data ([`CRITERIA`]), each with its legal basis and a [`Test`] on the
//! [`Facts`] an analyst records; [`assess`] evaluates them.
//!
//! - For the digital-infrastructure and digital-provider entities the Implementing Regulation
//!   covers ([`ProviderKind`]: DNS service providers, TLD name registries, cloud computing, data
//!   centre and content delivery network providers, managed (security) service providers,
//!   online marketplaces, search engines, social networking platforms and trust service
//!   providers) its criteria are exhaustive: the horizontal ones of Art. 3(1)(a)–(e), the
//!   recurring-incident rule of Art. 4 (Art. 3(1)(f)) and the entity-type thresholds of
//!   Arts. 5–14 (Art. 3(1)(g)). Planned interruptions and the foreseen consequences of planned
//!   maintenance are not significant (Art. 3(2)).
//! - For every other entity, NIS2 Art. 23(3) itself: severe operational disruption or financial
//!   loss for the entity, or considerable material or non-material damage to others.
//!
//! The **recurring-incident rule** (Art. 4): incidents that are not significant on their own
//! count as one significant incident when they occurred at least twice within 6 months, have the
//! same apparent root cause, and together meet the financial-loss criterion of Art. 3(1)(a). Root
//! causes compare after trimming, lower-casing and collapsing white space; the window is the six
//! calendar months (UTC) up to the current incident.
//!
//! Thresholds "whichever is smaller" compare with the smaller of the share of the service's
//! users in the Union (when known) and the absolute number; "more than" is strict.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Timestamp;

/// The entity types with their own thresholds in Implementing Regulation (EU) 2024/2690.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    DnsServiceProvider,
    TldNameRegistry,
    CloudComputing,
    DataCentre,
    ContentDeliveryNetwork,
    ManagedServiceProvider,
    ManagedSecurityServiceProvider,
    OnlineMarketplace,
    OnlineSearchEngine,
    SocialNetworkingPlatform,
    TrustServiceProvider,
}

impl ProviderKind {
    /// The entity type of an organisation registered under a NIS2 sector and subsector (the
    /// slugs of `neretva_model::org::SECTORS`), when the Implementing Regulation covers it:
    /// `digital-infrastructure` with `dns`, `tld`, `cloud`, `data-centre`, `cdn` or
    /// `trust-service`; `ict-service-management` with `msp` or `mssp`; `digital-providers` with
    /// `online-marketplace`, `search-engine` or `social-network`.
    pub fn of_sector(sector: Option<&str>, subsector: Option<&str>) -> Option<ProviderKind> {
        Some(match (sector?, subsector?) {
            ("digital-infrastructure", "dns") => P::DnsServiceProvider,
            ("digital-infrastructure", "tld") => P::TldNameRegistry,
            ("digital-infrastructure", "cloud") => P::CloudComputing,
            ("digital-infrastructure", "data-centre") => P::DataCentre,
            ("digital-infrastructure", "cdn") => P::ContentDeliveryNetwork,
            ("digital-infrastructure", "trust-service") => P::TrustServiceProvider,
            ("ict-service-management", "msp") => P::ManagedServiceProvider,
            ("ict-service-management", "mssp") => P::ManagedSecurityServiceProvider,
            ("digital-providers", "online-marketplace") => P::OnlineMarketplace,
            ("digital-providers", "search-engine") => P::OnlineSearchEngine,
            ("digital-providers", "social-network") => P::SocialNetworkingPlatform,
            _ => return None,
        })
    }
}

/// Who a criterion applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Entities outside the Implementing Regulation: NIS2 Art. 23(3).
    Directive,
    /// Every entity type of the Implementing Regulation.
    Regulation,
    /// Some entity types of the Implementing Regulation.
    Providers(&'static [ProviderKind]),
}

/// A share of users in thousandths (50 is 5 %), or an absolute number, whichever is smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserThreshold {
    pub per_mille: u64,
    pub absolute: u64,
}

impl UserThreshold {
    /// The number of users to exceed, given the service's users in the Union if known.
    pub fn limit(self, users_in_union: Option<u64>) -> u64 {
        match users_in_union {
            Some(total) => (total.saturating_mul(self.per_mille) / 1000).min(self.absolute),
            None => self.absolute,
        }
    }
}

/// What a criterion checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// NIS2 Art. 23(3)(a).
    SevereDisruptionOrLoss,
    /// NIS2 Art. 23(3)(b).
    ConsiderableDamageToOthers,
    /// Direct financial loss above EUR 500,000 or 5 % of the annual turnover, whichever is lower.
    FinancialLoss,
    TradeSecretExfiltration,
    Death,
    HealthDamage,
    /// A successful, suspectedly malicious and unauthorised access capable of severe
    /// operational disruption.
    MaliciousAccess,
    /// Complete unavailability for more than this many minutes (0: any).
    CompleteUnavailability {
        over_minutes: u32,
    },
    /// Average DNS response time above 10 seconds for more than this many minutes.
    SlowDns {
        over_minutes: u32,
    },
    /// Limited availability for more than this many minutes.
    LimitedAvailability {
        over_minutes: u32,
    },
    /// Limited availability for more than the threshold of users, for more than the given
    /// minutes (0: any duration).
    LimitedAvailabilityUsers {
        users: UserThreshold,
        over_minutes: u32,
    },
    /// Complete unavailability for more than the threshold of users.
    UnavailableUsers {
        users: UserThreshold,
    },
    /// Integrity, confidentiality or authenticity of the service's data compromised; with
    /// `malicious_only`, as a result of a suspectedly malicious action.
    DataCompromise {
        malicious_only: bool,
    },
    /// Data compromise affecting more than the threshold of users.
    DataCompromiseUsers {
        users: UserThreshold,
    },
    /// DNS data compromise, except a misconfiguration affecting fewer than 1,000 domain names
    /// that are at most 1 % of the names managed (Art. 5(c)).
    DnsDataCompromise,
    PhysicalAccess,
    /// Unavailable for more than this many minutes in a calendar week.
    WeeklyUnavailability {
        over_minutes: u32,
    },
}

/// One criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    /// A stable identifier, e.g. `ir2690-art7-b`.
    pub id: &'static str,
    /// The legal reference, e.g. `Implementing Regulation (EU) 2024/2690, Art. 7(b)`.
    pub basis: &'static str,
    pub scope: Scope,
    /// The criterion in words.
    pub text: &'static str,
    pub test: Test,
}

const FIVE_PERCENT_OR_A_MILLION: UserThreshold = UserThreshold { per_mille: 50, absolute: 1_000_000 };

use ProviderKind as P;

const DNS: &[ProviderKind] = &[P::DnsServiceProvider];
const TLD: &[ProviderKind] = &[P::TldNameRegistry];
const CLOUD: &[ProviderKind] = &[P::CloudComputing];
const DATA_CENTRE: &[ProviderKind] = &[P::DataCentre];
const CDN: &[ProviderKind] = &[P::ContentDeliveryNetwork];
const MANAGED: &[ProviderKind] = &[P::ManagedServiceProvider, P::ManagedSecurityServiceProvider];
const MARKETPLACE: &[ProviderKind] = &[P::OnlineMarketplace];
const SEARCH: &[ProviderKind] = &[P::OnlineSearchEngine];
const SOCIAL: &[ProviderKind] = &[P::SocialNetworkingPlatform];
const TRUST: &[ProviderKind] = &[P::TrustServiceProvider];

const fn c(id: &'static str, basis: &'static str, scope: Scope, text: &'static str, test: Test) -> Criterion {
    Criterion { id, basis, scope, text, test }
}

/// Every criterion, in the order of the texts.
#[rustfmt::skip]
pub const CRITERIA: &[Criterion] = &[
    c("nis2-art23-3-a", "Directive (EU) 2022/2555, Art. 23(3)(a)", Scope::Directive,
      "has caused or is capable of causing severe operational disruption of the services or financial loss for the entity", Test::SevereDisruptionOrLoss),
    c("nis2-art23-3-b", "Directive (EU) 2022/2555, Art. 23(3)(b)", Scope::Directive,
      "has affected or is capable of affecting other natural or legal persons by causing considerable material or non-material damage", Test::ConsiderableDamageToOthers),

    c("ir2690-art3-1-a", "Implementing Regulation (EU) 2024/2690, Art. 3(1)(a)", Scope::Regulation,
      "direct financial loss for the entity above EUR 500 000 or 5 % of its total annual turnover in the preceding financial year, whichever is lower", Test::FinancialLoss),
    c("ir2690-art3-1-b", "Implementing Regulation (EU) 2024/2690, Art. 3(1)(b)", Scope::Regulation,
      "exfiltration of trade secrets of the entity", Test::TradeSecretExfiltration),
    c("ir2690-art3-1-c", "Implementing Regulation (EU) 2024/2690, Art. 3(1)(c)", Scope::Regulation,
      "death of a natural person", Test::Death),
    c("ir2690-art3-1-d", "Implementing Regulation (EU) 2024/2690, Art. 3(1)(d)", Scope::Regulation,
      "considerable damage to a natural person's health", Test::HealthDamage),
    c("ir2690-art3-1-e", "Implementing Regulation (EU) 2024/2690, Art. 3(1)(e)", Scope::Regulation,
      "successful, suspectedly malicious and unauthorised access to network and information systems, capable of causing severe operational disruption", Test::MaliciousAccess),

    c("ir2690-art5-a", "Implementing Regulation (EU) 2024/2690, Art. 5(a)", Scope::Providers(DNS),
      "a recursive or authoritative domain name resolution service is completely unavailable for more than 30 minutes", Test::CompleteUnavailability { over_minutes: 30 }),
    c("ir2690-art5-b", "Implementing Regulation (EU) 2024/2690, Art. 5(b)", Scope::Providers(DNS),
      "for more than one hour, the average response time of a recursive or authoritative resolution service to DNS requests is more than 10 seconds", Test::SlowDns { over_minutes: 60 }),
    c("ir2690-art5-c", "Implementing Regulation (EU) 2024/2690, Art. 5(c)", Scope::Providers(DNS),
      "integrity, confidentiality or authenticity of data related to the authoritative resolution service is compromised (except a misconfiguration affecting fewer than 1 000 and at most 1 % of the domain names managed)", Test::DnsDataCompromise),

    c("ir2690-art6-a", "Implementing Regulation (EU) 2024/2690, Art. 6(a)", Scope::Providers(TLD),
      "an authoritative domain name resolution service is completely unavailable", Test::CompleteUnavailability { over_minutes: 0 }),
    c("ir2690-art6-b", "Implementing Regulation (EU) 2024/2690, Art. 6(b)", Scope::Providers(TLD),
      "for more than one hour, the average response time of an authoritative resolution service to DNS requests is more than 10 seconds", Test::SlowDns { over_minutes: 60 }),
    c("ir2690-art6-c", "Implementing Regulation (EU) 2024/2690, Art. 6(c)", Scope::Providers(TLD),
      "integrity, confidentiality or authenticity of data related to the technical operation of the TLD is compromised", Test::DataCompromise { malicious_only: false }),

    c("ir2690-art7-a", "Implementing Regulation (EU) 2024/2690, Art. 7(a)", Scope::Providers(CLOUD),
      "a cloud computing service is completely unavailable for more than 30 minutes", Test::CompleteUnavailability { over_minutes: 30 }),
    c("ir2690-art7-b", "Implementing Regulation (EU) 2024/2690, Art. 7(b)", Scope::Providers(CLOUD),
      "availability is limited for more than 5 % of the service's users in the Union or more than 1 million of them, whichever is smaller, for more than one hour", Test::LimitedAvailabilityUsers { users: FIVE_PERCENT_OR_A_MILLION, over_minutes: 60 }),
    c("ir2690-art7-c", "Implementing Regulation (EU) 2024/2690, Art. 7(c)", Scope::Providers(CLOUD),
      "integrity, confidentiality or authenticity of the service's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art7-d", "Implementing Regulation (EU) 2024/2690, Art. 7(d)", Scope::Providers(CLOUD),
      "integrity, confidentiality or authenticity of the service's data is compromised with an impact on more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::DataCompromiseUsers { users: FIVE_PERCENT_OR_A_MILLION }),

    c("ir2690-art8-a", "Implementing Regulation (EU) 2024/2690, Art. 8(a)", Scope::Providers(DATA_CENTRE),
      "a data centre service of a data centre operated by the provider is completely unavailable", Test::CompleteUnavailability { over_minutes: 0 }),
    c("ir2690-art8-b", "Implementing Regulation (EU) 2024/2690, Art. 8(b)", Scope::Providers(DATA_CENTRE),
      "availability of a data centre service is limited for more than one hour", Test::LimitedAvailability { over_minutes: 60 }),
    c("ir2690-art8-c", "Implementing Regulation (EU) 2024/2690, Art. 8(c)", Scope::Providers(DATA_CENTRE),
      "integrity, confidentiality or authenticity of the service's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art8-d", "Implementing Regulation (EU) 2024/2690, Art. 8(d)", Scope::Providers(DATA_CENTRE),
      "physical access to a data centre operated by the provider is compromised", Test::PhysicalAccess),

    c("ir2690-art9-a", "Implementing Regulation (EU) 2024/2690, Art. 9(a)", Scope::Providers(CDN),
      "a content delivery network is completely unavailable for more than 30 minutes", Test::CompleteUnavailability { over_minutes: 30 }),
    c("ir2690-art9-b", "Implementing Regulation (EU) 2024/2690, Art. 9(b)", Scope::Providers(CDN),
      "availability is limited for more than 5 % of the network's users in the Union or more than 1 million of them, whichever is smaller, for more than one hour", Test::LimitedAvailabilityUsers { users: FIVE_PERCENT_OR_A_MILLION, over_minutes: 60 }),
    c("ir2690-art9-c", "Implementing Regulation (EU) 2024/2690, Art. 9(c)", Scope::Providers(CDN),
      "integrity, confidentiality or authenticity of the network's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art9-d", "Implementing Regulation (EU) 2024/2690, Art. 9(d)", Scope::Providers(CDN),
      "integrity, confidentiality or authenticity of the network's data is compromised with an impact on more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::DataCompromiseUsers { users: FIVE_PERCENT_OR_A_MILLION }),

    c("ir2690-art10-a", "Implementing Regulation (EU) 2024/2690, Art. 10(a)", Scope::Providers(MANAGED),
      "a managed service or managed security service is completely unavailable for more than 30 minutes", Test::CompleteUnavailability { over_minutes: 30 }),
    c("ir2690-art10-b", "Implementing Regulation (EU) 2024/2690, Art. 10(b)", Scope::Providers(MANAGED),
      "availability is limited for more than 5 % of the service's users in the Union or more than 1 million of them, whichever is smaller, for more than one hour", Test::LimitedAvailabilityUsers { users: FIVE_PERCENT_OR_A_MILLION, over_minutes: 60 }),
    c("ir2690-art10-c", "Implementing Regulation (EU) 2024/2690, Art. 10(c)", Scope::Providers(MANAGED),
      "integrity, confidentiality or authenticity of the service's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art10-d", "Implementing Regulation (EU) 2024/2690, Art. 10(d)", Scope::Providers(MANAGED),
      "integrity, confidentiality or authenticity of the service's data is compromised with an impact on more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::DataCompromiseUsers { users: FIVE_PERCENT_OR_A_MILLION }),

    c("ir2690-art11-a", "Implementing Regulation (EU) 2024/2690, Art. 11(a)", Scope::Providers(MARKETPLACE),
      "the online marketplace is completely unavailable for more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::UnavailableUsers { users: FIVE_PERCENT_OR_A_MILLION }),
    c("ir2690-art11-b", "Implementing Regulation (EU) 2024/2690, Art. 11(b)", Scope::Providers(MARKETPLACE),
      "more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller, are affected by limited availability", Test::LimitedAvailabilityUsers { users: FIVE_PERCENT_OR_A_MILLION, over_minutes: 0 }),
    c("ir2690-art11-c", "Implementing Regulation (EU) 2024/2690, Art. 11(c)", Scope::Providers(MARKETPLACE),
      "integrity, confidentiality or authenticity of the marketplace's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art11-d", "Implementing Regulation (EU) 2024/2690, Art. 11(d)", Scope::Providers(MARKETPLACE),
      "integrity, confidentiality or authenticity of the marketplace's data is compromised with an impact on more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::DataCompromiseUsers { users: FIVE_PERCENT_OR_A_MILLION }),

    c("ir2690-art12-a", "Implementing Regulation (EU) 2024/2690, Art. 12(a)", Scope::Providers(SEARCH),
      "the search engine is completely unavailable for more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::UnavailableUsers { users: FIVE_PERCENT_OR_A_MILLION }),
    c("ir2690-art12-b", "Implementing Regulation (EU) 2024/2690, Art. 12(b)", Scope::Providers(SEARCH),
      "more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller, are affected by limited availability", Test::LimitedAvailabilityUsers { users: FIVE_PERCENT_OR_A_MILLION, over_minutes: 0 }),
    c("ir2690-art12-c", "Implementing Regulation (EU) 2024/2690, Art. 12(c)", Scope::Providers(SEARCH),
      "integrity, confidentiality or authenticity of the search engine's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art12-d", "Implementing Regulation (EU) 2024/2690, Art. 12(d)", Scope::Providers(SEARCH),
      "integrity, confidentiality or authenticity of the search engine's data is compromised with an impact on more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::DataCompromiseUsers { users: FIVE_PERCENT_OR_A_MILLION }),

    c("ir2690-art13-a", "Implementing Regulation (EU) 2024/2690, Art. 13(a)", Scope::Providers(SOCIAL),
      "the platform is completely unavailable for more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::UnavailableUsers { users: FIVE_PERCENT_OR_A_MILLION }),
    c("ir2690-art13-b", "Implementing Regulation (EU) 2024/2690, Art. 13(b)", Scope::Providers(SOCIAL),
      "more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller, are affected by limited availability", Test::LimitedAvailabilityUsers { users: FIVE_PERCENT_OR_A_MILLION, over_minutes: 0 }),
    c("ir2690-art13-c", "Implementing Regulation (EU) 2024/2690, Art. 13(c)", Scope::Providers(SOCIAL),
      "integrity, confidentiality or authenticity of the platform's data is compromised as a result of a suspectedly malicious action", Test::DataCompromise { malicious_only: true }),
    c("ir2690-art13-d", "Implementing Regulation (EU) 2024/2690, Art. 13(d)", Scope::Providers(SOCIAL),
      "integrity, confidentiality or authenticity of the platform's data is compromised with an impact on more than 5 % of its users in the Union or more than 1 million of them, whichever is smaller", Test::DataCompromiseUsers { users: FIVE_PERCENT_OR_A_MILLION }),

    c("ir2690-art14-a", "Implementing Regulation (EU) 2024/2690, Art. 14(a)", Scope::Providers(TRUST),
      "a trust service is completely unavailable for more than 20 minutes", Test::CompleteUnavailability { over_minutes: 20 }),
    c("ir2690-art14-b", "Implementing Regulation (EU) 2024/2690, Art. 14(b)", Scope::Providers(TRUST),
      "a trust service is unavailable to users or relying parties for more than one hour calculated on a calendar week basis", Test::WeeklyUnavailability { over_minutes: 60 }),
    c("ir2690-art14-c", "Implementing Regulation (EU) 2024/2690, Art. 14(c)", Scope::Providers(TRUST),
      "more than 1 % of the users or relying parties in the Union, or more than 200 000 of them, whichever is smaller, are affected by limited availability of a trust service", Test::LimitedAvailabilityUsers { users: UserThreshold { per_mille: 10, absolute: 200_000 }, over_minutes: 0 }),
    c("ir2690-art14-d", "Implementing Regulation (EU) 2024/2690, Art. 14(d)", Scope::Providers(TRUST),
      "physical access to an area with restricted access where network and information systems are located is compromised", Test::PhysicalAccess),
    c("ir2690-art14-e", "Implementing Regulation (EU) 2024/2690, Art. 14(e)", Scope::Providers(TRUST),
      "integrity, confidentiality or authenticity of trust service data is compromised with an impact on more than 0.1 % of the users or relying parties, or more than 100 of them, whichever is smaller", Test::DataCompromiseUsers { users: UserThreshold { per_mille: 1, absolute: 100 } }),
];

/// How a service was affected; every field is optional, unknown values meet no threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceImpact {
    /// The service's users in the Union, for the percentage thresholds.
    pub users_in_union: Option<u64>,
    /// The longest complete unavailability, in minutes.
    pub complete_unavailability_minutes: Option<u32>,
    /// Users for whom the service was completely unavailable.
    pub users_unavailable: Option<u64>,
    /// How long availability was limited, in minutes.
    pub limited_availability_minutes: Option<u32>,
    /// Users affected by limited availability.
    pub users_limited: Option<u64>,
    /// Minutes during which the average DNS response time was above 10 seconds.
    pub slow_dns_minutes: Option<u32>,
    /// Unavailability within one calendar week, in minutes (trust services).
    pub weekly_unavailability_minutes: Option<u32>,
    /// Integrity, confidentiality or authenticity of the service's data compromised.
    pub data_compromised: bool,
    /// ... as a result of a suspectedly malicious action.
    pub data_compromise_malicious: bool,
    /// Users affected by the data compromise.
    pub users_data_compromised: Option<u64>,
    /// DNS: domain names whose data were compromised, and names managed.
    pub dns_domains_affected: Option<u64>,
    pub dns_domains_managed: Option<u64>,
    /// DNS: the compromise was caused by a misconfiguration.
    pub dns_misconfiguration: bool,
    pub physical_access_compromised: bool,
}

/// What is known about an incident, for the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// The entity's type under the Implementing Regulation, or `None` for every other entity.
    #[serde(default)]
    pub provider: Option<ProviderKind>,
    #[serde(with = "crate::utc")]
    pub occurred_at: Timestamp,
    /// A planned interruption or a foreseen consequence of planned maintenance.
    #[serde(default)]
    pub planned: bool,
    #[serde(default)]
    pub severe_disruption_or_loss: bool,
    #[serde(default)]
    pub considerable_damage_to_others: bool,
    #[serde(default)]
    pub direct_financial_loss_eur: Option<u64>,
    #[serde(default)]
    pub annual_turnover_eur: Option<u64>,
    #[serde(default)]
    pub trade_secrets_exfiltrated: bool,
    #[serde(default)]
    pub death: bool,
    #[serde(default)]
    pub health_damage: bool,
    #[serde(default)]
    pub malicious_access: bool,
    #[serde(default)]
    pub service: ServiceImpact,
    /// The apparent root cause, for the recurring-incident rule.
    #[serde(default)]
    pub root_cause: Option<String>,
}

/// An earlier incident of the same entity, for the recurring-incident rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastIncident {
    pub id: Uuid,
    #[serde(with = "crate::utc")]
    pub occurred_at: Timestamp,
    pub root_cause: String,
    pub direct_financial_loss_eur: Option<u64>,
    /// Significant on its own (then it does not count towards a recurrence).
    pub significant: bool,
}

/// The incidents that together are significant under Art. 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recurrence {
    /// The earlier incidents counted with the current one.
    pub incidents: Vec<Uuid>,
    pub total_loss_eur: u64,
    pub threshold_eur: u64,
}

/// One criterion met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Met {
    pub id: &'static str,
    pub basis: &'static str,
    pub text: &'static str,
}

/// The result of an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub significant: bool,
    /// The criteria met, in table order; the recurring-incident rule as `ir2690-art4`.
    pub met: Vec<Met>,
    /// Planned: not significant whatever else is met (Art. 3(2)).
    pub excluded_as_planned: bool,
    /// The financial-loss threshold that applied, for entities under the Regulation.
    pub loss_threshold_eur: Option<u64>,
    pub recurrence: Option<Recurrence>,
}

impl Facts {
    /// Checks the free text: the root cause is at most `limits::SHORT_TEXT` characters without
    /// control characters; the incident did not occur after `now`.
    pub fn validate(&self, now: Timestamp) -> Vec<crate::FieldError> {
        let mut errors = crate::Errors::default();
        errors.optional("root_cause", self.root_cause.as_deref(), crate::limits::SHORT_TEXT);
        if self.occurred_at > now {
            errors.push("occurred_at", "is in the future");
        }
        errors.into_vec()
    }
}

/// An assessment recorded on an incident: the facts, the outcome, who assessed and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub facts: Facts,
    pub significant: bool,
    /// The identifiers of the criteria met (`ir2690-art4` for the recurring-incident rule).
    pub criteria: Vec<String>,
    /// The earlier incidents counted with this one under the recurring-incident rule.
    #[serde(default)]
    pub recurring_with: Vec<Uuid>,
    pub excluded_as_planned: bool,
    #[serde(with = "crate::utc")]
    pub assessed_at: Timestamp,
    pub assessed_by: Option<Uuid>,
}

impl Recorded {
    /// Assesses the facts (with the entity's earlier incidents) and records the outcome.
    pub fn assess(
        facts: Facts,
        past: &[PastIncident],
        assessed_by: Option<Uuid>,
        now: Timestamp,
    ) -> Result<(Recorded, Assessment), Vec<crate::FieldError>> {
        let errors = facts.validate(now);
        if !errors.is_empty() {
            return Err(errors);
        }
        let assessment = assess(&facts, past);
        let recorded = Recorded {
            significant: assessment.significant,
            criteria: assessment.met.iter().map(|met| met.id.to_owned()).collect(),
            recurring_with: assessment.recurrence.as_ref().map(|r| r.incidents.clone()).unwrap_or_default(),
            excluded_as_planned: assessment.excluded_as_planned,
            facts,
            assessed_at: now,
            assessed_by,
        };
        Ok((recorded, assessment))
    }

    /// This incident as an earlier one of its entity, for a later incident's recurring-incident
    /// rule; `None` without a root cause.
    pub fn as_past(&self, id: Uuid) -> Option<PastIncident> {
        let root_cause = self.facts.root_cause.clone().filter(|cause| !cause.trim().is_empty())?;
        Some(PastIncident {
            id,
            occurred_at: self.facts.occurred_at,
            root_cause,
            direct_financial_loss_eur: self.facts.direct_financial_loss_eur,
            significant: self.significant,
        })
    }
}

/// The financial-loss threshold of Art. 3(1)(a): EUR 500,000 or 5 % of the turnover, the lower.
pub fn loss_threshold(annual_turnover_eur: Option<u64>) -> u64 {
    let cap = 500_000;
    annual_turnover_eur.map_or(cap, |turnover| (turnover / 20).min(cap))
}

impl Criterion {
    /// Whether the criterion applies to an entity.
    pub fn applies_to(&self, provider: Option<ProviderKind>) -> bool {
        match (self.scope, provider) {
            (Scope::Directive, None) => true,
            (Scope::Regulation, Some(_)) => true,
            (Scope::Providers(kinds), Some(kind)) => kinds.contains(&kind),
            _ => false,
        }
    }

    /// Whether the facts meet it.
    pub fn is_met(&self, facts: &Facts) -> bool {
        let service = &facts.service;
        let over = |value: Option<u32>, limit: u32| value.is_some_and(|v| v > limit);
        let users_over = |value: Option<u64>, threshold: UserThreshold| {
            value.is_some_and(|v| v > threshold.limit(service.users_in_union))
        };
        match self.test {
            Test::SevereDisruptionOrLoss => facts.severe_disruption_or_loss,
            Test::ConsiderableDamageToOthers => facts.considerable_damage_to_others,
            Test::FinancialLoss => facts
                .direct_financial_loss_eur
                .is_some_and(|loss| loss > loss_threshold(facts.annual_turnover_eur)),
            Test::TradeSecretExfiltration => facts.trade_secrets_exfiltrated,
            Test::Death => facts.death,
            Test::HealthDamage => facts.health_damage,
            Test::MaliciousAccess => facts.malicious_access,
            Test::CompleteUnavailability { over_minutes } => {
                over(service.complete_unavailability_minutes, over_minutes)
            }
            Test::SlowDns { over_minutes } => over(service.slow_dns_minutes, over_minutes),
            Test::LimitedAvailability { over_minutes } => {
                over(service.limited_availability_minutes, over_minutes)
            }
            Test::LimitedAvailabilityUsers { users, over_minutes } => {
                users_over(service.users_limited, users)
                    && (over_minutes == 0 || over(service.limited_availability_minutes, over_minutes))
            }
            Test::UnavailableUsers { users } => users_over(service.users_unavailable, users),
            Test::DataCompromise { malicious_only } => {
                service.data_compromised && (!malicious_only || service.data_compromise_malicious)
            }
            Test::DataCompromiseUsers { users } => {
                service.data_compromised && users_over(service.users_data_compromised, users)
            }
            Test::DnsDataCompromise => {
                let minor = service.dns_misconfiguration
                    && match (service.dns_domains_affected, service.dns_domains_managed) {
                        (Some(affected), Some(managed)) => {
                            affected < 1_000 && affected.saturating_mul(100) <= managed
                        }
                        _ => false,
                    };
                service.data_compromised && !minor
            }
            Test::PhysicalAccess => service.physical_access_compromised,
            Test::WeeklyUnavailability { over_minutes } => {
                over(service.weekly_unavailability_minutes, over_minutes)
            }
        }
    }
}

fn root_cause_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The recurring-incident rule of Art. 4 for the current incident and the entity's earlier ones.
pub fn recurrence(facts: &Facts, past: &[PastIncident]) -> Option<Recurrence> {
    let cause = root_cause_key(facts.root_cause.as_deref()?);
    if cause.is_empty() {
        return None;
    }
    let start = crate::add_months(facts.occurred_at.date(), -6)
        .map(|date| date.with_time(facts.occurred_at.time()).assume_utc())?;
    let same: Vec<&PastIncident> = past
        .iter()
        .filter(|p| !p.significant && p.occurred_at >= start && p.occurred_at <= facts.occurred_at)
        .filter(|p| root_cause_key(&p.root_cause) == cause)
        .collect();
    if same.is_empty() {
        return None;
    }
    let total_loss_eur = same
        .iter()
        .filter_map(|p| p.direct_financial_loss_eur)
        .chain(facts.direct_financial_loss_eur)
        .fold(0u64, u64::saturating_add);
    let threshold_eur = loss_threshold(facts.annual_turnover_eur);
    (total_loss_eur > threshold_eur).then(|| Recurrence {
        incidents: same.iter().map(|p| p.id).collect(),
        total_loss_eur,
        threshold_eur,
    })
}

/// Evaluates every criterion that applies to the entity.
pub fn assess(facts: &Facts, past: &[PastIncident]) -> Assessment {
    let mut met: Vec<Met> = CRITERIA
        .iter()
        .filter(|criterion| criterion.applies_to(facts.provider) && criterion.is_met(facts))
        .map(|criterion| Met { id: criterion.id, basis: criterion.basis, text: criterion.text })
        .collect();
    let under_regulation = facts.provider.is_some();
    let recurrence = if under_regulation { recurrence(facts, past) } else { None };
    if recurrence.is_some() {
        met.push(Met {
            id: "ir2690-art4",
            basis: "Implementing Regulation (EU) 2024/2690, Art. 3(1)(f) and Art. 4",
            text: "recurring incidents: at least twice within 6 months, same apparent root cause, together meeting Art. 3(1)(a)",
        });
    }
    let excluded_as_planned = under_regulation && facts.planned;
    Assessment {
        significant: !met.is_empty() && !excluded_as_planned,
        met,
        excluded_as_planned,
        loss_threshold_eur: under_regulation.then(|| loss_threshold(facts.annual_turnover_eur)),
        recurrence,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn facts(provider: Option<ProviderKind>) -> Facts {
        Facts {
            provider,
            occurred_at: datetime!(2025-06-15 12:00 UTC),
            planned: false,
            severe_disruption_or_loss: false,
            considerable_damage_to_others: false,
            direct_financial_loss_eur: None,
            annual_turnover_eur: None,
            trade_secrets_exfiltrated: false,
            death: false,
            health_damage: false,
            malicious_access: false,
            service: ServiceImpact::default(),
            root_cause: None,
        }
    }

    fn met(facts: &Facts) -> Vec<&'static str> {
        assess(facts, &[]).met.into_iter().map(|m| m.id).collect()
    }

    #[test]
    fn registry_sectors_name_the_entity_type() {
        assert_eq!(
            ProviderKind::of_sector(Some("digital-infrastructure"), Some("trust-service")),
            Some(P::TrustServiceProvider)
        );
        assert_eq!(
            ProviderKind::of_sector(Some("ict-service-management"), Some("mssp")),
            Some(P::ManagedSecurityServiceProvider)
        );
        assert_eq!(ProviderKind::of_sector(Some("digital-infrastructure"), Some("ixp")), None);
        assert_eq!(ProviderKind::of_sector(Some("energy"), Some("electricity")), None);
        assert_eq!(ProviderKind::of_sector(Some("digital-infrastructure"), None), None);
        // Every subsector named exists in the registry's catalogue.
        for (sector, subsectors) in [
            ("digital-infrastructure", &["dns", "tld", "cloud", "data-centre", "cdn", "trust-service"][..]),
            ("ict-service-management", &["msp", "mssp"][..]),
            ("digital-providers", &["online-marketplace", "search-engine", "social-network"][..]),
        ] {
            for subsector in subsectors {
                assert!(
                    neretva_model::org::check_sector(Some(sector), Some(subsector)).is_ok(),
                    "{sector}/{subsector}"
                );
                assert!(ProviderKind::of_sector(Some(sector), Some(subsector)).is_some());
            }
        }
    }

    #[test]
    fn assessments_are_recorded_and_count_as_past_incidents() {
        let mut first = facts(Some(P::CloudComputing));
        first.root_cause = Some("Expired  certificate".into());
        first.direct_financial_loss_eur = Some(300_000);
        let now = datetime!(2025-06-16 0:00 UTC);
        let (recorded, _) = Recorded::assess(first.clone(), &[], None, now).unwrap();
        assert!(!recorded.significant);
        let past = recorded.as_past(Uuid::from_u128(1)).unwrap();
        let mut second = first.clone();
        second.occurred_at = datetime!(2025-08-01 0:00 UTC);
        let (again, assessment) =
            Recorded::assess(second, &[past], Some(Uuid::from_u128(9)), datetime!(2025-08-02 0:00 UTC))
                .unwrap();
        assert!(again.significant && assessment.recurrence.is_some());
        assert_eq!(again.criteria, ["ir2690-art4"]);
        assert_eq!(again.recurring_with, [Uuid::from_u128(1)]);
        let mut bad = first;
        bad.root_cause = Some("x".repeat(crate::limits::SHORT_TEXT + 1));
        bad.occurred_at = now + time::Duration::days(1);
        let fields: Vec<String> =
            Recorded::assess(bad, &[], None, now).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["root_cause", "occurred_at"]);
    }

    #[test]
    fn the_table_is_consistent() {
        let mut ids = std::collections::HashSet::new();
        for criterion in CRITERIA {
            assert!(ids.insert(criterion.id), "duplicate {}", criterion.id);
        }
        // Each provider kind has its own article with at least three criteria.
        for kind in [
            P::DnsServiceProvider,
            P::TldNameRegistry,
            P::CloudComputing,
            P::DataCentre,
            P::ContentDeliveryNetwork,
            P::ManagedServiceProvider,
            P::ManagedSecurityServiceProvider,
            P::OnlineMarketplace,
            P::OnlineSearchEngine,
            P::SocialNetworkingPlatform,
            P::TrustServiceProvider,
        ] {
            let own = CRITERIA
                .iter()
                .filter(|c| matches!(c.scope, Scope::Providers(kinds) if kinds.contains(&kind)))
                .count();
            assert!(own >= 3, "{kind:?}");
        }
    }

    #[test]
    fn the_directive_applies_outside_the_regulation() {
        let mut hospital = facts(None);
        assert!(!assess(&hospital, &[]).significant);
        hospital.severe_disruption_or_loss = true;
        hospital.death = true; // Regulation criteria do not apply to it.
        assert_eq!(met(&hospital), ["nis2-art23-3-a"]);
        assert_eq!(assess(&hospital, &[]).loss_threshold_eur, None);
    }

    #[test]
    fn financial_loss_takes_the_lower_threshold() {
        assert_eq!(loss_threshold(None), 500_000);
        assert_eq!(loss_threshold(Some(4_000_000)), 200_000);
        assert_eq!(loss_threshold(Some(100_000_000)), 500_000);
        let mut cloud = facts(Some(P::CloudComputing));
        cloud.annual_turnover_eur = Some(4_000_000);
        cloud.direct_financial_loss_eur = Some(200_000);
        assert!(!assess(&cloud, &[]).significant, "not more than the threshold");
        cloud.direct_financial_loss_eur = Some(200_001);
        assert_eq!(met(&cloud), ["ir2690-art3-1-a"]);
    }

    /// (provider, impact, expected criteria met).
    #[test]
    fn entity_type_thresholds() {
        let impact = |f: &dyn Fn(&mut ServiceImpact)| {
            let mut impact = ServiceImpact::default();
            f(&mut impact);
            impact
        };
        let cases: Vec<(ProviderKind, ServiceImpact, Vec<&str>)> = vec![
            (P::DnsServiceProvider, impact(&|i| i.complete_unavailability_minutes = Some(30)), vec![]),
            (
                P::DnsServiceProvider,
                impact(&|i| i.complete_unavailability_minutes = Some(31)),
                vec!["ir2690-art5-a"],
            ),
            (P::DnsServiceProvider, impact(&|i| i.slow_dns_minutes = Some(61)), vec!["ir2690-art5-b"]),
            (
                P::DnsServiceProvider,
                impact(&|i| {
                    i.data_compromised = true;
                    i.dns_misconfiguration = true;
                    i.dns_domains_affected = Some(999);
                    i.dns_domains_managed = Some(100_000);
                }),
                vec![],
            ),
            (
                P::DnsServiceProvider,
                impact(&|i| {
                    i.data_compromised = true;
                    i.dns_misconfiguration = true;
                    i.dns_domains_affected = Some(999);
                    i.dns_domains_managed = Some(50_000);
                }),
                vec!["ir2690-art5-c"],
            ),
            (
                P::TldNameRegistry,
                impact(&|i| i.complete_unavailability_minutes = Some(1)),
                vec!["ir2690-art6-a"],
            ),
            (
                P::CloudComputing,
                impact(&|i| {
                    i.users_in_union = Some(2_000_000);
                    i.users_limited = Some(100_001);
                    i.limited_availability_minutes = Some(61);
                }),
                vec!["ir2690-art7-b"],
            ),
            (
                P::CloudComputing,
                impact(&|i| {
                    i.users_in_union = Some(2_000_000);
                    i.users_limited = Some(100_001);
                    i.limited_availability_minutes = Some(60);
                }),
                vec![],
            ),
            (
                P::CloudComputing,
                impact(&|i| {
                    i.users_limited = Some(1_000_001);
                    i.limited_availability_minutes = Some(90);
                }),
                vec!["ir2690-art7-b"],
            ),
            (
                P::CloudComputing,
                impact(&|i| {
                    i.data_compromised = true;
                    i.users_data_compromised = Some(10);
                }),
                vec![],
            ),
            (
                P::CloudComputing,
                impact(&|i| {
                    i.data_compromised = true;
                    i.data_compromise_malicious = true;
                }),
                vec!["ir2690-art7-c"],
            ),
            (P::DataCentre, impact(&|i| i.physical_access_compromised = true), vec!["ir2690-art8-d"]),
            (
                P::ManagedSecurityServiceProvider,
                impact(&|i| i.complete_unavailability_minutes = Some(45)),
                vec!["ir2690-art10-a"],
            ),
            (
                P::OnlineMarketplace,
                impact(&|i| {
                    i.users_in_union = Some(10_000);
                    i.users_unavailable = Some(501);
                }),
                vec!["ir2690-art11-a"],
            ),
            (
                P::TrustServiceProvider,
                impact(&|i| i.complete_unavailability_minutes = Some(21)),
                vec!["ir2690-art14-a"],
            ),
            (
                P::TrustServiceProvider,
                impact(&|i| i.weekly_unavailability_minutes = Some(61)),
                vec!["ir2690-art14-b"],
            ),
            (
                P::TrustServiceProvider,
                impact(&|i| {
                    i.data_compromised = true;
                    i.users_data_compromised = Some(101);
                }),
                vec!["ir2690-art14-e"],
            ),
            (
                P::TrustServiceProvider,
                impact(&|i| {
                    i.users_in_union = Some(50_000);
                    i.data_compromised = true;
                    i.users_data_compromised = Some(51);
                }),
                vec!["ir2690-art14-e"],
            ),
        ];
        let mut failures = Vec::new();
        for (index, (provider, service, expected)) in cases.into_iter().enumerate() {
            let mut f = facts(Some(provider));
            f.service = service;
            let actual = met(&f);
            if actual != expected {
                failures.push(format!("case {index} ({provider:?}): expected {expected:?}, got {actual:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn planned_maintenance_is_not_significant() {
        let mut f = facts(Some(P::CloudComputing));
        f.service.complete_unavailability_minutes = Some(120);
        f.planned = true;
        let assessment = assess(&f, &[]);
        assert!(!assessment.significant && assessment.excluded_as_planned);
        assert_eq!(assessment.met.len(), 1, "what was met is still shown");
    }

    #[test]
    fn recurring_incidents() {
        let mut f = facts(Some(P::ManagedServiceProvider));
        f.root_cause = Some("Unpatched  VPN gateway".into());
        f.direct_financial_loss_eur = Some(300_000);
        let past = |n: u128, occurred_at, cause: &str, loss, significant| PastIncident {
            id: Uuid::from_u128(n),
            occurred_at,
            root_cause: cause.into(),
            direct_financial_loss_eur: Some(loss),
            significant,
        };
        let history = vec![
            past(1, datetime!(2025-01-10 9:00 UTC), "unpatched VPN gateway", 250_000, false),
            past(2, datetime!(2024-12-14 9:00 UTC), "unpatched VPN gateway", 900_000, false), // more than 6 months before
            past(3, datetime!(2025-03-01 9:00 UTC), "phishing", 900_000, false),              // another cause
            past(4, datetime!(2025-04-01 9:00 UTC), "unpatched VPN gateway", 900_000, true), // significant alone
        ];
        let assessment = assess(&f, &history);
        assert!(assessment.significant);
        assert_eq!(
            assessment.recurrence,
            Some(Recurrence {
                incidents: vec![Uuid::from_u128(1)],
                total_loss_eur: 550_000,
                threshold_eur: 500_000
            })
        );
        assert_eq!(assessment.met.last().map(|m| m.id), Some("ir2690-art4"));
        // Together below the threshold: not significant.
        f.direct_financial_loss_eur = Some(200_000);
        assert!(!assess(&f, &history).significant);
        // A single incident is no recurrence, whatever its loss.
        f.direct_financial_loss_eur = Some(400_000);
        assert_eq!(recurrence(&f, &history[1..3]), None);
        // The window is six calendar months: 15 December 12:00 is inside, 14 December is not.
        let edge = vec![past(5, datetime!(2024-12-15 12:00 UTC), "unpatched vpn gateway", 200_000, false)];
        assert!(recurrence(&f, &edge).is_some());
    }
}
