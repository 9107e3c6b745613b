//! Tasks of an incident, and the playbooks that seed them by RSIT classification and type.
//!
//! The playbook is data ([`TEMPLATES`]): every incident gets the common tasks, plus those of its
//! RSIT classification, plus those of its exact type. Each template has a stable `key`, kept on
//! the tasks made from it, so a merge can tell two copies of the same task apart from two
//! different tasks.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::classification::RsitClass;
use crate::timeline::{TimelineEntry, TimelineKind};
use crate::{Errors, FieldError, Timestamp, limits};

/// Which incidents a template applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every incident.
    All,
    /// Every type of one RSIT classification, e.g. `intrusions`.
    Taxonomy(&'static str),
    /// One RSIT type, e.g. `phishing`.
    Type(&'static str),
}

/// One task of the playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskTemplate {
    /// Stable identifier, kept on the tasks made from it.
    pub key: &'static str,
    pub applies: Applies,
    pub title: &'static str,
    pub description: &'static str,
}

const fn t(
    key: &'static str,
    applies: Applies,
    title: &'static str,
    description: &'static str,
) -> TaskTemplate {
    TaskTemplate { key, applies, title, description }
}

use Applies::{All, Taxonomy, Type};

/// The playbook, in the order tasks are created: common first, then by classification and type.
#[rustfmt::skip]
pub const TEMPLATES: &[TaskTemplate] = &[
    t("acknowledge", All, "Acknowledge the report", "Confirm receipt to the reporter with the incident reference and the TLP under which it is handled."),
    t("scope", All, "Establish scope and affected organisations", "Identify the affected systems, services and constituents; add them to the incident."),
    t("significance", All, "Assess significance and reporting obligations", "Check the NIS2 and Implementing Regulation 2024/2690 criteria, cross-border impact and GDPR relevance; confirm the deadlines."),
    t("search-events", All, "Search stored events for the observables", "Look up the incident's observables in the stored feed events to find other affected hosts and earlier sightings."),
    t("lessons-learned", All, "Record lessons learned", "Summarise root cause, what worked, what did not, and follow-up actions before closing."),

    t("spam-source", Taxonomy("abusive-content"), "Identify the source of the content", "Find the sending or hosting infrastructure from headers, relays or URLs."),
    t("spam-abuse-report", Type("spam"), "Report the sender to its abuse contact", "Ask the sending network's abuse contact to stop the spam; check whether the sender is a compromised constituent host or account."),
    t("content-preserve", Type("harmful-speech"), "Preserve the content", "Capture the content, its URL and timestamps as evidence before it is removed."),
    t("content-removal", Type("harmful-speech"), "Request removal from the platform", "Report the content through the platform operator's abuse or notice channel."),
    t("csam-refer", Type("violence"), "Refer to law enforcement", "Refer child sexual abuse material to the police and the national hotline; do not download, copy or share the material."),

    t("infected-identify", Taxonomy("malicious-code"), "Identify infected hosts and their owners", "Map the indicators to constituents' networks and contact the owners."),
    t("malware-sample", Taxonomy("malicious-code"), "Collect and analyse samples", "Collect samples and hashes; analyse only as the PAP allows (no public sandbox under PAP:RED or PAP:AMBER)."),
    t("infected-clean", Type("infected-system"), "Isolate and clean infected systems", "Isolate infected systems, remove the malware or reinstall, and rotate the credentials used on them."),
    t("c2-takedown", Type("c2-server"), "Request takedown or sinkholing of the C2 server", "Ask the hosting provider or registrar to take the server or domain down, or coordinate a sinkhole."),
    t("distribution-removal", Type("malware-distribution"), "Request removal of the malicious content", "Ask the hosting provider to remove the distribution URLs; submit them to blocklists."),
    t("configuration-removal", Type("malware-configuration"), "Request removal of the configuration files", "Ask the hosting provider to remove the configuration URLs and extract targets from the configuration."),
    t("ioc-share", Taxonomy("malicious-code"), "Share indicators with the community", "Share the indicators with partners and sector groups as the TLP allows."),

    t("scan-source", Taxonomy("information-gathering"), "Identify the source", "Decide whether the source is a constituent (inform it) or external (report it to its abuse contact, consider blocking)."),
    t("scan-targets", Type("scanner"), "Check the scanned services", "Check whether the scanned services of constituents are exposed or vulnerable."),
    t("sniffing-path", Type("sniffing"), "Locate the interception point", "Find where the traffic was observed or recorded and secure that network segment."),
    t("social-warn", Type("social-engineering"), "Warn the targeted people", "Warn the targeted staff or users and collect the lures (calls, messages) as evidence."),

    t("attempt-success", Taxonomy("intrusion-attempts"), "Check whether the attempt succeeded", "Review logs, IDS alerts and authentication records of the targeted systems; reclassify as an intrusion if it succeeded."),
    t("attempt-patch", Type("ids-alert"), "Patch or mitigate the exploited vulnerability", "Apply the vendor fix or a mitigation for the targeted CVE on every exposed system."),
    t("bruteforce-harden", Type("brute-force"), "Harden the targeted logins", "Enforce multi-factor authentication and lockout, and review the targeted accounts for weak passwords."),
    t("exploit-analyse", Type("exploit"), "Analyse the unknown exploit", "Capture the attack traffic or payload and share it with the product vendor and partner CERTs as the TLP allows."),
    t("attempt-abuse-report", Taxonomy("intrusion-attempts"), "Report the source to its abuse contact", "Send the evidence to the abuse contact of the attacking network."),

    t("intrusion-preserve", Taxonomy("intrusions"), "Preserve evidence before changing systems", "Capture memory, disk images and logs of affected systems and record their chain of custody."),
    t("intrusion-vector", Taxonomy("intrusions"), "Determine the initial access vector and timeline", "Reconstruct how and when the attacker got in and what was done."),
    t("intrusion-contain", Taxonomy("intrusions"), "Contain the intrusion", "Isolate affected systems and disable compromised accounts without alerting the attacker prematurely."),
    t("intrusion-eradicate", Taxonomy("intrusions"), "Eradicate persistence and rebuild", "Remove backdoors and persistence, rebuild affected systems from known-good sources, and patch the entry point."),
    t("intrusion-credentials", Taxonomy("intrusions"), "Reset credentials, sessions and keys", "Reset passwords, revoke sessions, tokens and keys that the attacker could have obtained."),
    t("intrusion-data", Taxonomy("intrusions"), "Assess data access and exfiltration", "Determine whether data was read or taken; start the GDPR Art. 33 assessment if personal data is involved."),
    t("privileged-review", Type("privileged-account-compromise"), "Review every action of the privileged account", "Audit configuration changes, new accounts and access grants made with the compromised account."),
    t("burglary-physical", Type("burglary"), "Coordinate with physical security and the police", "Inventory stolen or tampered equipment and report the break-in to the police."),

    t("availability-impact", Taxonomy("availability"), "Record the impact", "Record users affected, duration and geographical spread of the disruption (the NIS1 parameters)."),
    t("ddos-upstream", Type("ddos"), "Coordinate filtering with upstream providers", "Ask the upstream ISP or scrubbing service to filter the attack; collect traffic samples and source lists."),
    t("ddos-reflectors", Type("ddos"), "Notify owners of the reflectors", "Notify constituents whose services were used as reflectors or amplifiers."),
    t("dos-fix", Type("dos"), "Fix the service against the crafted requests", "Identify the crafted requests and filter them or patch the service."),
    t("outage-restore", Taxonomy("availability"), "Restore the service and find the root cause", "Restore the service, then document the root cause and how recurrence is prevented."),
    t("sabotage-police", Type("sabotage"), "Preserve evidence and involve law enforcement", "Preserve logs and physical evidence of the intentional damage and report it to the police."),

    t("data-scope", Taxonomy("information-content-security"), "Determine what data was affected", "Establish which data was accessed, modified, lost or leaked, whose, and since when."),
    t("data-gdpr", Taxonomy("information-content-security"), "Assess the personal-data breach", "If personal data is involved, notify the data protection authority within 72 hours of awareness (GDPR Art. 33)."),
    t("data-restore", Type("unauthorised-information-modification"), "Restore from known-good backups", "Restore modified or encrypted data from verified backups and check its integrity."),
    t("leak-removal", Type("data-leak"), "Request removal of the leaked data", "Ask the hosting site to remove the published data and revoke any leaked credentials."),

    t("phishing-takedown", Type("phishing"), "Request takedown of the phishing site", "Ask the hosting provider and the registrar to take the site down; submit the URL to browser blocklists."),
    t("phishing-victims", Type("phishing"), "Identify victims who entered credentials", "Find users who submitted credentials and have them reset; warn the impersonated organisation."),
    t("masquerade-warn", Type("masquerade"), "Warn the impersonated organisation", "Inform the impersonated organisation and, with it, warn its customers."),
    t("copyright-forward", Type("copyright"), "Forward to the rights holder and the host", "Forward the notice to the hosting provider and the rights holder."),
    t("resources-stop", Type("unauthorised-use-of-resources"), "Stop the unauthorised use", "Identify the abused resource and its owner and stop the unauthorised use."),

    t("vulnerable-notify", Taxonomy("vulnerable"), "Notify the owner with remediation advice", "Tell the system owner what is exposed and how to fix it."),
    t("vulnerable-verify", Taxonomy("vulnerable"), "Verify the remediation", "Re-check the system after the owner reports a fix."),
    t("amplifier-close", Type("ddos-amplifier"), "Close or rate-limit the open service", "Ask the owner to restrict the resolver, NTP or other amplifying service to its own users."),
    t("crypto-advice", Type("weak-crypto"), "Advise on a secure configuration", "Give the owner a current TLS configuration recommendation."),
];

/// The templates for a class, in table order.
pub fn playbook(class: RsitClass) -> Vec<&'static TaskTemplate> {
    TEMPLATES
        .iter()
        .filter(|template| match template.applies {
            All => true,
            Taxonomy(taxonomy) => taxonomy == class.taxonomy(),
            Type(slug) => slug == class.slug(),
        })
        .collect()
}

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    InProgress,
    Done,
    /// Not applicable to this incident.
    Skipped,
}

impl TaskStatus {
    /// Done or skipped.
    pub fn is_finished(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Skipped)
    }
}

/// A task of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: TaskStatus,
    pub assignee: Option<Uuid>,
    /// The playbook template's key, for tasks made from one.
    pub template: Option<String>,
    #[serde(with = "crate::utc::option")]
    pub due_at: Option<Timestamp>,
    #[serde(with = "crate::utc")]
    pub created_at: Timestamp,
    /// When it was last done or skipped; cleared when reopened.
    #[serde(with = "crate::utc::option")]
    pub finished_at: Option<Timestamp>,
}

/// What a user supplies for a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskDraft {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    #[serde(default, with = "crate::utc::option")]
    pub due_at: Option<Timestamp>,
}

impl TaskDraft {
    /// Checks every field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Errors::default();
        errors.text("title", &self.title, limits::TITLE);
        errors.optional("description", Some(&self.description), limits::TEXT);
        errors.into_vec()
    }
}

impl Task {
    /// A task from a user's draft, with its timeline entry.
    pub fn new(
        id: Uuid,
        incident_id: Uuid,
        draft: TaskDraft,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Result<(Task, TimelineEntry), Vec<FieldError>> {
        let errors = draft.validate();
        if !errors.is_empty() {
            return Err(errors);
        }
        let task = Task {
            id,
            incident_id,
            title: draft.title,
            description: draft.description,
            status: TaskStatus::Open,
            assignee: draft.assignee,
            template: None,
            due_at: draft.due_at,
            created_at: now,
            finished_at: None,
        };
        let entry =
            TimelineEntry::new(now, actor, TimelineKind::TaskAdded { task: id, title: task.title.clone() });
        Ok((task, entry))
    }

    /// A task made from a playbook template.
    pub fn from_template(id: Uuid, incident_id: Uuid, template: &TaskTemplate, now: Timestamp) -> Task {
        Task {
            id,
            incident_id,
            title: template.title.to_owned(),
            description: template.description.to_owned(),
            status: TaskStatus::Open,
            assignee: None,
            template: Some(template.key.to_owned()),
            due_at: None,
            created_at: now,
            finished_at: None,
        }
    }

    /// Moves the task to another status; `None` when it is already there.
    pub fn set_status(
        &mut self,
        to: TaskStatus,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Option<TimelineEntry> {
        let from = self.status;
        if from == to {
            return None;
        }
        self.status = to;
        self.finished_at = to.is_finished().then_some(now);
        Some(TimelineEntry::new(now, actor, TimelineKind::TaskStatusChanged { task: self.id, from, to }))
    }
}

/// The playbook's tasks for a new incident of `class`; `new_id` supplies the task ids.
pub fn seed_tasks(
    incident_id: Uuid,
    class: RsitClass,
    now: Timestamp,
    mut new_id: impl FnMut() -> Uuid,
) -> Vec<Task> {
    playbook(class)
        .into_iter()
        .map(|template| Task::from_template(new_id(), incident_id, template, now))
        .collect()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn class(slug: &str) -> RsitClass {
        slug.parse().unwrap()
    }

    fn keys(slug: &str) -> Vec<&'static str> {
        playbook(class(slug)).into_iter().map(|t| t.key).collect()
    }

    #[test]
    fn playbooks_combine_common_classification_and_type_tasks() {
        assert_eq!(
            keys("phishing"),
            [
                "acknowledge",
                "scope",
                "significance",
                "search-events",
                "lessons-learned",
                "phishing-takedown",
                "phishing-victims"
            ]
        );
        let ransomware = keys("unauthorised-information-modification");
        assert!(ransomware.contains(&"data-gdpr") && ransomware.contains(&"data-restore"));
        assert!(!ransomware.contains(&"leak-removal"));
        assert_eq!(keys("test").len(), 5, "only the common tasks");
    }

    #[test]
    fn the_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        let taxonomies: Vec<&str> = RsitClass::all().map(RsitClass::taxonomy).collect();
        for template in TEMPLATES {
            assert!(seen.insert(template.key), "duplicate key {}", template.key);
            match template.applies {
                All => {}
                Taxonomy(taxonomy) => assert!(taxonomies.contains(&taxonomy), "{taxonomy}"),
                Type(slug) => assert!(slug.parse::<RsitClass>().is_ok_and(|c| c.slug() == slug), "{slug}"),
            }
            assert!(template.title.len() <= limits::TITLE && template.description.ends_with('.'));
        }
        for class in RsitClass::all().filter(|c| !matches!(c.taxonomy(), "other" | "test")) {
            assert!(playbook(class).len() > 5, "{class} has tasks of its own");
        }
    }

    #[test]
    fn seeding_and_status_changes() {
        let now = datetime!(2025-02-03 10:00 UTC);
        let mut next = 10u128;
        let tasks = seed_tasks(Uuid::from_u128(1), class("ddos"), now, || {
            next += 1;
            Uuid::from_u128(next)
        });
        assert_eq!(tasks[0].id, Uuid::from_u128(11));
        assert_eq!(tasks[0].template.as_deref(), Some("acknowledge"));
        let mut task = tasks[0].clone();
        assert!(task.set_status(TaskStatus::Done, None, now).is_some());
        assert_eq!(task.finished_at, Some(now));
        assert!(task.set_status(TaskStatus::Done, None, now).is_none());
        task.set_status(TaskStatus::Open, None, now);
        assert_eq!(task.finished_at, None);
        let draft =
            TaskDraft { title: String::new(), description: "\u{1b}".into(), assignee: None, due_at: None };
        let fields: Vec<String> = draft.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "description"]);
    }
}
