//! The command line, as close to the flags as possible; `main` turns it into actions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Neretva: feeds, incidents, sharing and coordination for national and sectoral CERTs.
#[derive(Debug, Parser)]
#[command(name = "neretva", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Configuration file (TOML); NERETVA_* environment variables override it.
    #[arg(long, short = 'c', global = true, env = "NERETVA_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Directory of the embedded database and other files.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Database: postgres://user@host/db for PostgreSQL, or sqlite://FILE; default SQLite in the data directory.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server (API, web interface, metrics); applies pending migrations first.
    Serve(ServeArgs),
    /// Start a demonstration instance with a fictional constituency and one user per role.
    ///
    /// Unless the configuration names feeds, the demo configures one feed per parser that needs
    /// no options and, on a new database, stores a few reports of the day before about the
    /// constituency's networks through the pipeline; Shadowserver reports copied into `drop/` in
    /// the data directory are ingested while it serves.
    Demo(DemoArgs),
    /// Apply pending database migrations.
    Migrate(JsonFlag),
    /// Check the configuration and report every problem; starts nothing.
    CheckConfig(JsonFlag),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage organisations of the constituency.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Find who owns an IP address, network, domain or ASN.
    Lookup(LookupArgs),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Process report files once through a feed's pipeline, with a progress bar and a summary.
    Ingest(IngestArgs),
    /// Feeds and their parsers.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// Stored feed events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Incident handling: list, show, create and change incidents, take in e-mails, and the
    /// queue, summary and statistics.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Evidence of incidents.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Threat intelligence: STIX patterns.
    #[command(subcommand)]
    Intel(IntelCommand),
    /// The TAXII 2.1 server: its collections and their sharing scopes.
    #[command(subcommand)]
    Taxii(TaxiiCommand),
    /// Constituent notifications: signed (and encrypted) e-mail digests of the events that
    /// concern each organisation, with the delivery record.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// The strategy and action-plan tracker: load the Guidelines' objectives, show documents,
    /// progress, overdue actions and changes, and print the implementation report.
    #[command(subcommand)]
    Strategy(StrategyCommand),
    /// Capacity building: import and export courses (folders or zips of Markdown and YAML),
    /// list them, export learning records as xAPI statements, verify certificates; train-the-trainer
    /// programmes, sessions, attendance, trainers and statistics; tabletop exercises (scenarios with
    /// timed injects, runs, timelines, after-action reports).
    #[command(subcommand)]
    Learning(LearningCommand),
    /// The contact-point directory (OSCE CBM 8 policy and technical, Budapest Convention 24/7,
    /// sector and CERT contact points, with OpenPGP keys) and CERT teams' RFC 2350 profiles.
    #[command(subcommand)]
    ContactPoints(ContactPointsCommand),
    /// Communication checks: campaigns that send every contact point in a scope a one-time
    /// link, record acknowledgments, remind and escalate the silent ones, and report
    /// reachability and the median response time.
    #[command(subcommand)]
    Checks(ChecksCommand),
    /// Working groups and sector sub-groups: members, meetings, action items linked to strategy
    /// actions, documents under TLP, announcements by e-mail, diversity aggregates.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Preservation requests under Budapest Convention Art. 29: record, preserve (60 days at
    /// least), extend, link the follow-up MLA request, release; reminders before expiry.
    #[command(subcommand)]
    Preservation(PreservationCommand),
    /// Maturity self-assessments: SIM3 (with ENISA tiers) and NIS2 Art. 21; compare, chart.
    #[command(subcommand)]
    Assessment(AssessmentCommand),
    /// Re-run the feed's parser on a stored report, replacing its events.
    Reparse {
        /// The report's id.
        report: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Apply the configured retention once, as `neretva serve` does every hour: delete events
    /// observed more than `pipeline.retention_days` ago, the raw data of reports received more
    /// than `pipeline.report_retention_days` ago, and expired deduplication keys (for
    /// deployments that ingest from cron without a server, or to free room at once).
    Retention {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PreservationCommand {
    /// Record a request from a JSON file with the fields of Art. 29(2): reference, direction
    /// (received or sent), requesting_authority, requesting_party, offence, facts, data_sought,
    /// relation_to_offence, custodian, custodian_org (id), necessity, mla_intended (true),
    /// received_on (YYYY-MM-DD), notes. Every problem is reported; nothing is stored unless valid.
    Add {
        /// The request's JSON file.
        file: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List the requests with their status and days to expiry.
    List {
        /// The day statuses are read on (YYYY-MM-DD); today when left out.
        #[arg(long)]
        on: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show a request (by reference or id).
    Show {
        /// The request's reference or id.
        request: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Record that the data was preserved: the term runs at least 60 days (Art. 29(7)).
    Preserve {
        /// The request's reference or id.
        request: String,
        /// The day of preservation (YYYY-MM-DD).
        #[arg(long)]
        on: String,
        /// The expiry; 60 days after --on when left out, never less.
        #[arg(long)]
        until: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Extend the term, on the requesting Party's request, before it expires.
    Extend {
        /// The request's reference or id.
        request: String,
        /// The day the requesting Party asked for the extension (YYYY-MM-DD).
        #[arg(long)]
        requested_on: String,
        /// The new expiry, after the current one.
        #[arg(long)]
        until: String,
        /// A note for the record.
        #[arg(long)]
        note: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Link the follow-up mutual-legal-assistance request: the data stays preserved until a
    /// decision on it.
    FollowUp {
        /// The request's reference or id.
        request: String,
        /// The MLA request's reference.
        #[arg(long)]
        mla: String,
        /// The day the MLA request was received (YYYY-MM-DD).
        #[arg(long)]
        received_on: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Record that the preserved data was released.
    Release {
        /// The request's reference or id.
        request: String,
        /// The day of release (YYYY-MM-DD).
        #[arg(long)]
        on: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The requests due for a reminder: held under a term ending within the configured leads
    /// (`[preservation] reminder_days`, default 14 and 3 days).
    Reminders {
        /// The day to look from (YYYY-MM-DD); today when left out.
        #[arg(long)]
        on: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FrameworkArg {
    /// SIM3 for CSIRTs: 45 parameters (O, H, T, P) on the 0–4 scale.
    Sim3,
    /// The ten NIS2 Art. 21(2) measure areas (a)–(j).
    Nis2,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AssessmentCommand {
    /// Start an assessment of an organisation; prints its id.
    Start {
        /// The organisation's short name or id.
        #[arg(long)]
        org: String,
        /// The framework assessed.
        #[arg(long, value_enum)]
        framework: FrameworkArg,
        /// A title for the assessment.
        #[arg(long)]
        title: String,
        /// The day it speaks for (YYYY-MM-DD); today when left out.
        #[arg(long)]
        on: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Set (or replace) one parameter's level, with its evidence.
    Set {
        /// The assessment's id.
        assessment: String,
        /// `O-1` … `P-17` (SIM3) or `a` … `j` (NIS2).
        parameter: String,
        /// 0–4.
        level: u8,
        /// What shows the level: documents, findings, interviews.
        #[arg(long)]
        evidence: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Set many scores from a JSON file: `[{"parameter", "level", "evidence"}]`; one bad score
    /// and none is set.
    Import {
        /// The assessment's id.
        assessment: String,
        /// The JSON file of scores.
        file: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show an assessment: its scores, mean and ENISA tier.
    Show {
        /// The assessment's id.
        assessment: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List assessments, by organisation and day.
    List {
        /// Only this organisation (short name or id).
        #[arg(long)]
        org: Option<String>,
        /// Only this framework.
        #[arg(long, value_enum)]
        framework: Option<FrameworkArg>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Compare two assessments of one framework, parameter by parameter (before, after).
    Compare {
        /// The earlier assessment's id.
        before: String,
        /// The later assessment's id.
        after: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Draw an assessment (and optionally another over it) as an SVG radar chart.
    Radar {
        /// The assessment's id.
        assessment: String,
        /// Another assessment's id, drawn over the first.
        #[arg(long)]
        with: Option<String>,
        /// Where to write the SVG; standard output when left out.
        #[arg(short, long)]
        out: Option<std::path::PathBuf>,
    },
    /// Draw the organisation's history of the assessment's framework as an SVG trend chart.
    Trend {
        /// The assessment's id; its organisation and framework are charted.
        assessment: String,
        /// The language of the chart's words: en, bs, hr, sr-Latn or sr-Cyrl.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Where to write the SVG; standard output when left out.
        #[arg(short, long)]
        out: Option<std::path::PathBuf>,
    },
    /// The NIS2 self-assessments by sector: per area, organisations, mean and median.
    Sectors {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Delete an assessment.
    Delete {
        /// The assessment's id.
        assessment: String,
    },
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per run; boxing would only obscure the fields")]
pub(crate) enum ContactPointsCommand {
    /// List contact points by organisation, kind and address.
    List {
        /// An organisation's short name or id.
        #[arg(long)]
        org: Option<String>,
        /// cbm8-policy, cbm8-technical, budapest-24x7, sector or cert.
        #[arg(long)]
        kind: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add a contact point; its OpenPGP key is checked and its fingerprint recorded.
    Add {
        /// The organisation's short name or id.
        #[arg(long)]
        org: String,
        /// cbm8-policy, cbm8-technical, budapest-24x7, sector or cert.
        #[arg(long)]
        kind: String,
        /// The NIS2 sector of a sector point, e.g. energy.
        #[arg(long)]
        sector: Option<String>,
        /// A person or a function, e.g. "Duty officer".
        #[arg(long)]
        name: String,
        /// The contact point's e-mail address.
        #[arg(long)]
        email: String,
        /// The contact point's phone number.
        #[arg(long)]
        phone: Option<String>,
        /// en, bs, hr, sr-Latn or sr-Cyrl (the language of the messages to the point); en when
        /// left out.
        #[arg(long)]
        language: Option<String>,
        /// When the point can be reached, e.g. 24/7.
        #[arg(long)]
        hours: Option<String>,
        /// A file with the point's ASCII-armoured OpenPGP public key.
        #[arg(long)]
        key: Option<std::path::PathBuf>,
        /// The key's fingerprint as read out of band; refused unless it is the key's.
        #[arg(long)]
        fingerprint: Option<String>,
        /// Notes for the record.
        #[arg(long)]
        notes: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show one contact point.
    Show {
        /// The contact point's id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove a contact point (campaigns keep their record of it).
    Remove {
        /// The contact point's id.
        id: String,
    },
    /// Store an organisation's RFC 2350 team profile from a JSON file (sections document,
    /// contact, charter, policies, services, forms, disclaimers); every problem is reported with
    /// its path and nothing is stored unless the whole profile is valid.
    SetProfile {
        /// The organisation's short name or id.
        org: String,
        /// The profile's JSON file.
        file: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Print (or write) an organisation's team profile as the RFC 2350 text document.
    #[command(name = "export-rfc2350")]
    ExportRfc2350 {
        /// The organisation's short name or id.
        org: String,
        /// Where to write the RFC 2350 text; standard output when left out.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChecksCommand {
    /// Create a campaign: its targets are the contact points the scope takes now (all when no
    /// --kind, --sector, --org or --point is given). Nothing is sent until it runs.
    Create {
        /// The campaign's name.
        #[arg(long)]
        name: String,
        /// A kind of point to reach (repeatable).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// A NIS2 sector of sector points to reach (repeatable).
        #[arg(long = "sector")]
        sectors: Vec<String>,
        /// An organisation whose points to reach (repeatable).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// A point to reach whatever the other options say (repeatable).
        #[arg(long = "point")]
        points: Vec<String>,
        /// When the links expire: RFC 3339, or from now as +30m, +2h, +7d.
        #[arg(long)]
        deadline: String,
        /// When the silent points are reminded (a new link each).
        #[arg(long)]
        remind_at: Option<String>,
        /// When the points still silent are escalated to --escalate-to.
        #[arg(long)]
        escalate_at: Option<String>,
        /// The address escalations go to (the CERT's coordinator).
        #[arg(long)]
        escalate_to: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Send what is due now (challenges, reminders, escalations) for one campaign, or for every
    /// open one; needs [notify] and public_url. Exits 2 when a sending failed (it is retried by
    /// the next run).
    Run {
        /// The campaign's id; every open campaign when left out.
        id: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// A campaign's targets: sent, acknowledged (when, by whom), reminded, escalated, errors.
    Status {
        /// The campaign's id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Every campaign with its reachability.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Reachability and median response time per campaign, oldest first.
    Report {
        /// json or csv.
        #[arg(long, default_value = "json")]
        format: String,
        /// Where to write the report; standard output when left out.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum LearningCommand {
    /// Import a course package: a folder (course.yaml, quiz.yaml, lessons/<language>/<module>/
    /// <lesson>.md, images/) or a zip of one. Every problem is reported with its file and line,
    /// and nothing is imported unless the whole package is valid.
    Import {
        /// The package's folder or zip file.
        path: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Write a course back to a package folder (to edit it and keep it in git).
    Export {
        /// The course's id, or its code (the newest version).
        course: String,
        /// The folder to write; it must not exist or be empty.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List the course versions with their languages, lessons and enrolments.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Learning records: enrolments with progress, or xAPI statements with --xapi.
    Records {
        /// Only this course (id or code).
        #[arg(long)]
        course: Option<String>,
        /// Only this learner (username).
        #[arg(long)]
        user: Option<String>,
        /// Print xAPI 1.0.3 statements (JSON) instead.
        #[arg(long)]
        xapi: bool,
        /// The instance's public URL the statements' ids are under (with --xapi).
        #[arg(long, default_value = "https://neretva.invalid")]
        base: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Check a certificate's verification code.
    Verify {
        /// The verification code printed on the certificate.
        code: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Training(crate::training::TrainingCommand),
    /// Tabletop exercise scenarios: import a package (scenario.yaml with timed injects), list.
    #[command(subcommand)]
    Scenario(crate::exercises::ScenarioCommand),
    /// List the tabletop exercises with their state, deliveries and responses.
    Exercises {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// A tabletop exercise: create, start, pause, resume, end, the timeline, the report.
    #[command(subcommand)]
    Exercise(crate::exercises::ExerciseCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum StrategyCommand {
    /// Load the BiH Guidelines for a Strategic Cybersecurity Framework (objectives A–I) as a
    /// document; loading them twice is refused (the code BIH-SCF-2019 is taken).
    LoadDefaults {
        /// The owning organisation's short name; the operator organisation when left out.
        #[arg(long)]
        owner: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Create a strategic document from a JSON file (the shape `POST /api/v1/strategy` takes:
    /// code, title, owner_org, tlp, objectives → measures → actions); every problem is reported
    /// with its path and nothing is stored unless the whole document is valid.
    Import {
        /// The document as JSON (at most 4 MiB).
        file: std::path::PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List the strategic documents with their actions, overdue actions and progress today.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show a document's objectives, measures and actions.
    Show {
        /// The document's code or id.
        document: String,
        /// Print the whole document as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Progress by objective and by level of authority.
    Progress {
        /// The document's code or id.
        document: String,
        /// The day (YYYY-MM-DD) overdue is counted on; today when left out.
        #[arg(long)]
        on: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The actions overdue on a day (not done or cancelled, due before it), earliest due first.
    Overdue {
        /// The document's code or id.
        document: String,
        /// YYYY-MM-DD; today when left out.
        #[arg(long)]
        on: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The actions changed at or after a time, latest first.
    Changes {
        /// The document's code or id.
        document: String,
        /// RFC 3339 time or YYYY-MM-DD (midnight UTC).
        #[arg(long)]
        since: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Print or write the implementation report (audited as an export).
    Report {
        /// The document's code or id.
        document: String,
        /// json, csv or html.
        #[arg(long, default_value = "html")]
        format: String,
        /// YYYY-MM-DD; today when left out.
        #[arg(long)]
        on: Option<String>,
        /// The language of the HTML report: en, bs, hr, sr-Latn or sr-Cyrl.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Write the report to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// With --out: print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// One pass now: build the digests that are due and the incident updates not made yet
    /// (status changes to the organisations an incident concerns, reminders of NIS2 reports
    /// before they are due and once when overdue), record them, and send what is due.
    Run {
        /// Record the digests but leave sending to `serve` or a later run.
        #[arg(long)]
        no_deliver: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Render what an organisation's contacts would receive from a run now (subject, body,
    /// attachments of the events due by their schedule), and list what waits in the queue for a
    /// later digest and when it is due, without recording or sending anything.
    Preview {
        /// The organisation's short name.
        #[arg(long)]
        org: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Send the events of an earlier message again, to the organisation's current contacts.
    Resend {
        /// The notification's id (from `neretva notify list`).
        message: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Send a CERT advisory (a subject and a plain-text body under a TLP label) to the contacts
    /// of the chosen organisations, signed (and encrypted to contacts with a key) through the
    /// same delivery record and retries as digests; contacts not cleared for the TLP get none.
    Advisory {
        /// An organisation's short name; may be given more than once.
        #[arg(long = "org", required_unless_present_any = ["sector", "all"])]
        orgs: Vec<String>,
        /// Every organisation of this sector (the registry's sector, e.g. `energy`).
        #[arg(long, conflicts_with_all = ["orgs", "all"])]
        sector: Option<String>,
        /// Every organisation of the constituency.
        #[arg(long, conflicts_with_all = ["orgs", "sector"])]
        all: bool,
        /// The subject, after the TLP label.
        #[arg(long)]
        subject: String,
        /// A UTF-8 text file holding the body.
        #[arg(long)]
        body_file: std::path::PathBuf,
        /// The advisory's TLP label.
        #[arg(long, default_value = "TLP:GREEN")]
        tlp: String,
        /// Record the messages but leave sending to `serve` or a later run.
        #[arg(long)]
        no_deliver: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The delivery record, newest first: who was told, when, by which message, and failures.
    List {
        /// Only messages to this organisation (short name).
        #[arg(long)]
        org: Option<String>,
        /// pending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only messages that told about this event (its id).
        #[arg(long)]
        event: Option<String>,
        /// Only incident updates (status changes, reminders) about this incident (its id).
        #[arg(long)]
        incident: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum IntelCommand {
    /// Evaluate one STIX pattern against observed data and print `match` or `nomatch`.
    ///
    /// Exits with 0 on a match, 1 on no match and 2 when the pattern does not parse or cannot be
    /// evaluated on the observations.
    Match {
        /// A file holding the pattern.
        #[arg(long, value_name = "FILE")]
        pattern_file: PathBuf,
        /// Observed data as JSON: a STIX bundle, a list of bundles or a list of STIX objects.
        #[arg(long, value_name = "FILE")]
        observations: PathBuf,
        /// Print the result as JSON, with the observed-data objects of the match.
        #[arg(long)]
        json: bool,
    },
    /// Store intel events from MISP JSON or STIX 2.1 bundle files, correlating each on write.
    ///
    /// The good events are stored; every problem is reported with its file and JSON path. An
    /// event whose uuid is stored already is replaced.
    Import {
        /// The files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `misp` (the default) or `stix`.
        #[arg(long, default_value = "misp")]
        format: String,
        /// The owner organisation (short name); the operator's organisation by default.
        #[arg(long)]
        org: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Write every stored intel event: as one MISP JSON list (`misp`), one STIX bundle per event
    /// (`stix`), or the files of a MISP feed of the published events (`misp-feed`, needs --out).
    Export {
        /// `misp` (the default), `stix` or `misp-feed`.
        #[arg(long, default_value = "misp")]
        format: String,
        /// A directory to write one file per event (or the feed's files) into; standard output
        /// otherwise.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print a summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// MISP server synchronisation.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Find stored attributes by value (canonicalised with --type when given).
    Search {
        /// The value to look for (an address, domain, URL, hash, ...).
        value: String,
        /// The MISP attribute type, e.g. `ip-dst`, `domain`, `sha256`.
        #[arg(long = "type")]
        attr_type: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SyncCommand {
    /// Pull the published events a remote MISP (or Neretva) server shows this instance's key.
    ///
    /// Asks the remote's version, its minimal event index of published events, and fetches each
    /// event that is new or newer than the local copy (its `timestamp`); so a second pull fetches
    /// only what changed. Pulled events follow MISP's pull rules: distribution narrowed one step
    /// (this community becomes organisation only, connected communities this community), local
    /// tags removed. They are owned by --org. Exits 1 when some events were left out.
    Pull {
        /// The remote's base URL, e.g. `https://misp.example.org`.
        #[arg(long)]
        url: String,
        /// A file holding the remote's API key (sent as `Authorization: <key>`).
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
        /// The local owner organisation (short name); the operator's organisation by default.
        #[arg(long)]
        org: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TaxiiCommand {
    /// TAXII collections.
    #[command(subcommand)]
    Collections(CollectionsCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum CollectionsCommand {
    /// List every collection with its sharing scope, writers and TAXII URL.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add a collection.
    Add {
        /// The collection's title, shown to TAXII clients.
        title: String,
        /// Who may read it: organisation (the owner only), groups (the owner and --share-with),
        /// community (every signed-in member) or public (also anonymous callers, TLP:CLEAR only).
        #[arg(long, value_parser = ["organisation", "groups", "community", "public"])]
        sharing: String,
        /// The organisations of a `groups` collection (short names or ids; repeat the flag).
        #[arg(long = "share-with", value_name = "ORG")]
        share_with: Vec<String>,
        /// The owning organisation; default: the operator.
        #[arg(long)]
        owner: Option<String>,
        /// Who may add objects: nobody, owner (its users and the operator's staff) or readers.
        #[arg(long, default_value = "owner", value_parser = ["nobody", "owner", "readers"])]
        writers: String,
        /// The TLP of posted objects that carry no TLP marking.
        #[arg(long, default_value = "TLP:GREEN")]
        default_tlp: String,
        /// A unique short name usable in TAXII URLs in place of the id.
        #[arg(long)]
        alias: Option<String>,
        /// What the collection holds, shown to TAXII clients.
        #[arg(long)]
        description: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove a collection (by id or alias) with every object in it.
    Remove {
        /// The collection's id or alias.
        collection: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// A feed configured in `[[pipeline.feeds]]`, or the name of a parser (`neretva feeds list`).
    #[arg(long)]
    pub(crate) feed: String,
    /// Report files to process: one report each, or, for a gzip or bzip2 file, the report it
    /// holds and, for a zip archive, one report per member (unpacked within the configured
    /// `pipeline.limits`). `-` reads a report from standard input (see --stdin-name). A file that
    /// cannot be read is listed and makes the exit status 1.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// The name of the report read from standard input (`-`), as a file of it would be named
    /// (`2026-11-30-scan_dns-bih-geo.csv.gz`): parsers such as Shadowserver's read the report
    /// type from it, and its extension says how it is compressed.
    #[arg(long, default_value = "stdin")]
    pub(crate) stdin_name: String,
    /// Store nothing; with --output, print the resulting events.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print the resulting events on standard output (progress and summary go to standard error).
    #[arg(long, value_enum)]
    pub(crate) output: Option<EventFormat>,
    /// With `--output csv`: the columns, IntelMQ field names separated by commas (default: those
    /// of the events API's CSV export, from time.source to tlp).
    #[arg(long, value_delimiter = ',', requires = "output")]
    pub(crate) fields: Vec<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Write stored events, newest first, as IntelMQ JSON lines (each with its report line in
    /// `raw`, for IntelMQ's JSON parser) or CSV on standard output; progress and the summary go
    /// to standard error. The filters are those of the events API. An event whose stored fields
    /// IntelMQ's types do not take is written as stored in JSON lines and left out of CSV (named,
    /// exit status 1).
    Export(EventsExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EventsExportArgs {
    /// RFC 3339: events whose source time (or observation time) is at or after it.
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// RFC 3339: … and before it.
    #[arg(long)]
    pub(crate) until: Option<String>,
    /// RSIT taxonomy, e.g. `vulnerable`.
    #[arg(long)]
    pub(crate) taxonomy: Option<String>,
    /// RSIT type, e.g. `ddos-amplifier`.
    #[arg(long = "type")]
    pub(crate) classification_type: Option<String>,
    /// Only events routed to this organisation (short name or id).
    #[arg(long)]
    pub(crate) organisation: Option<String>,
    /// An IP address or CIDR network matched against source and destination.
    #[arg(long)]
    pub(crate) ip: Option<String>,
    /// An AS number, with or without `AS`.
    #[arg(long)]
    pub(crate) asn: Option<String>,
    /// A feed's name.
    #[arg(long)]
    pub(crate) feed: Option<String>,
    /// The events of one stored report (its id).
    #[arg(long)]
    pub(crate) report: Option<String>,
    /// Text contained anywhere in the event (case-insensitive; reads every event it passes).
    #[arg(long)]
    pub(crate) text: Option<String>,
    /// At most this many events (the newest).
    #[arg(long)]
    pub(crate) limit: Option<u64>,
    /// The form of the events.
    #[arg(long, value_enum, default_value = "intelmq-jsonl")]
    pub(crate) output: EventFormat,
    /// With `--output csv`: the columns, IntelMQ field names separated by commas (default: those
    /// of the events API's CSV export, from time.source to tlp).
    #[arg(long, value_delimiter = ',')]
    pub(crate) fields: Vec<String>,
    /// Print the summary (on standard error) as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum EventFormat {
    /// IntelMQ JSON lines, one event per line.
    IntelmqJsonl,
    /// CSV with a header line (RFC 4180, for spreadsheets: a cell that would run as a formula
    /// starts with an apostrophe), the columns of `--fields`.
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FeedsCommand {
    /// List every feed parser, and the configured feeds.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Look at a configured feed's source once now, as `neretva serve` would at its next poll,
    /// and store what it brings: to try a new source's settings, or to fetch without waiting.
    Fetch {
        /// The feed's name in [[pipeline.feeds]].
        feed: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show how each configured feed's source did, as the sources last saved it (after polls
    /// of `neretva serve` and `neretva feeds fetch`): last look, last success, last failure and
    /// failing polls in a row. Exits with 1 when a source's last poll failed, for monitoring.
    Status {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show the Shadowserver report schema in use, or install a newer one (from Shadowserver
    /// with --update, or from a file); an installed schema replaces the built-in one.
    ShadowserverSchema {
        /// Download the newest schema from Shadowserver.
        #[arg(long, conflicts_with = "file")]
        update: bool,
        /// Install this schema file.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Where --update downloads from.
        #[arg(long, default_value = SHADOWSERVER_SCHEMA_URL)]
        url: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// Where Shadowserver publishes its report schema for IntelMQ.
pub(crate) const SHADOWSERVER_SCHEMA_URL: &str = "https://interchange.shadowserver.org/intelmq/v1/schema";

#[derive(Debug, Args)]
pub(crate) struct JsonFlag {
    /// Print machine-readable JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) listen: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) listen: Option<String>,
    /// Delete the demo database first and start afresh.
    #[arg(long)]
    pub(crate) reset: bool,
    /// Load the demo data and exit without serving.
    #[arg(long)]
    pub(crate) no_serve: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Admin,
    Analyst,
    Constituent,
    Community,
    Auditor,
    /// A competent authority: reads the incident reports of its sectors (`--sector`).
    Authority,
    /// Law enforcement: handles preservation requests (Budapest Convention Art. 29).
    #[value(name = "law_enforcement")]
    LawEnforcement,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user.
    Add {
        /// The login name.
        username: String,
        /// The user's organisation (short name or id).
        #[arg(long)]
        org: String,
        /// What the user may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A NIS2 sector a competent authority supervises (repeat for several).
        #[arg(long = "sector", value_name = "SECTOR")]
        sectors: Vec<String>,
        /// The user's e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The name shown in the interface.
        #[arg(long)]
        display_name: Option<String>,
        /// Interface language: en, bs, hr, sr-Latn or sr-Cyrl.
        #[arg(long)]
        language: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List users.
    List {
        /// Only users of this organisation.
        #[arg(long)]
        org: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (read from standard input, or generated and printed once).
    Passwd {
        /// The user's login name.
        username: String,
        /// Read the new password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: sessions end and tokens stop working.
    Disable {
        /// The user's login name.
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's login name.
        username: String,
    },
    /// Lift a lock-out after repeated failed logins before it expires (audited as `user.unlock`).
    Unlock {
        /// The user's login name.
        username: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ScopeArg {
    Read,
    Write,
    Admin,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token; its secret is printed once.
    Create {
        /// The token's owner.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// What the token may do: read, write (read and write) or admin.
        #[arg(long, value_enum, default_value = "read")]
        scope: ScopeArg,
        /// Days until the token expires.
        #[arg(long, default_value_t = 90)]
        expires_days: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum FileFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrgCommand {
    /// Import organisations with contacts and assets from JSON or CSV; all or nothing.
    Import {
        /// The JSON or CSV file.
        file: PathBuf,
        /// Default: from the file name's extension.
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Update organisations that exist (matched by short name) instead of refusing them.
        #[arg(long)]
        upsert: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Export the constituency as JSON or CSV.
    Export {
        /// The file format.
        #[arg(long, value_enum, default_value = "json")]
        format: FileFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List organisations.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    /// An IP address, CIDR network, ASN (AS64500), domain, URL or e-mail address.
    pub(crate) query: String,
    /// Print the result as JSON, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Re-compute the hash chain and name the first altered or removed entry (exit code 1 if any).
    Verify {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum IncidentCommand {
    /// List or search incidents, newest first.
    List {
        /// Text in the title, description or an observable.
        #[arg(long, short)]
        query: Option<String>,
        /// Only these statuses (comma-separated).
        #[arg(long)]
        status: Option<String>,
        /// At most this many incidents.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show an incident with its deadlines, tasks, observables and timeline.
    Show {
        /// The incident's id or reference.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Open an incident.
    Create {
        /// A short title.
        #[arg(long)]
        title: String,
        /// What happened, as known so far.
        #[arg(long, default_value = "")]
        description: String,
        /// An RSIT type, e.g. phishing.
        #[arg(long)]
        classification: Option<String>,
        /// low, medium, high or critical.
        #[arg(long)]
        severity: Option<String>,
        /// e.g. AMBER+STRICT (the default).
        #[arg(long)]
        tlp: Option<String>,
        /// e.g. AMBER (the default).
        #[arg(long)]
        pap: Option<String>,
        /// The reporting organisation (short name or id).
        #[arg(long)]
        reporter: Option<String>,
        /// An affected organisation (repeat for several).
        #[arg(long = "affected")]
        affected: Vec<String>,
        /// When the affected entity became aware (RFC 3339): starts the NIS2 deadlines.
        #[arg(long)]
        aware_at: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Move an incident along the workflow (triage, in_progress, resolved, closed).
    Transition {
        /// The incident's id or reference.
        id: String,
        /// The new state: triage, in_progress, resolved or closed.
        to: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Assign an incident to an analyst or admin of the operating CERT (or --none).
    Assign {
        /// The incident's id or reference.
        id: String,
        /// A username.
        user: Option<String>,
        /// Remove the assignment.
        #[arg(long, conflicts_with = "user")]
        none: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add a comment to an incident's timeline.
    Comment {
        /// The incident's id or reference.
        id: String,
        /// The comment.
        text: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Observables of an incident.
    #[command(subcommand)]
    Observable(ObservableCommand),
    /// Merge the incident SOURCE into TARGET.
    Merge {
        /// The incident that remains (id or reference).
        target: String,
        /// The incident merged into TARGET (id or reference).
        source: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The analyst queue: open incidents, the most urgent deadline first.
    Queue {
        /// At most this many incidents.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The anonymised quarterly summary for the regulator.
    Summary {
        /// e.g. 2026-Q4.
        #[arg(long)]
        quarter: String,
        /// The output format.
        #[arg(long, value_enum, default_value = "json")]
        format: SummaryFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Statistics: counts by RSIT type, sector, level of authority and month; times to triage
    /// and to resolve.
    Stats {
        /// RFC 3339: incidents created at or after.
        #[arg(long)]
        since: Option<String>,
        /// RFC 3339: … and before.
        #[arg(long)]
        until: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Ask the entity for an intermediate report on the incident (NIS2 Art. 23(4)(c)) by a due
    /// time, on behalf of the operating CERT; it becomes an obligation in the deadlines, met by
    /// the entity's next intermediate (or progress or final) report.
    Request {
        /// The incident's id or reference.
        id: String,
        /// RFC 3339: when the report is due.
        #[arg(long)]
        due: String,
        /// What the CERT wants to know (recorded in the timeline).
        #[arg(long)]
        note: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Record a significance assessment (NIS2 Art. 23(3), Implementing Regulation 2024/2690) on
    /// an incident from a JSON file of facts; prints whether it is significant and why.
    Significance {
        /// The incident's id or reference.
        id: String,
        /// A JSON file with the facts (`occurred_at`, `provider`, losses, impacts, `root_cause`,
        /// ...); without `provider`, the entity type follows the registry's subsector.
        #[arg(long)]
        facts: PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Match stored feed events against the observables of every open incident and link the
    /// new matches (the pipeline does this for each report it ingests).
    Rematch {
        /// The events of this feed report.
        #[arg(long, conflicts_with = "since", required_unless_present = "since")]
        report: Option<String>,
        /// RFC 3339: events whose time is at or after it.
        #[arg(long)]
        since: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The overdue and due-soon obligations of open incidents, as the deadline feed.
    Deadlines {
        /// Also list obligations due within this many hours (default: the due-soon window).
        #[arg(long)]
        within_hours: Option<u32>,
        /// The output format.
        #[arg(long, value_enum, default_value = "text")]
        format: DeadlineFormat,
    },
    /// Take in e-mails (.eml files, or directories of them) as incident reports, with a progress
    /// bar and a summary; malformed messages are kept as failed intakes with the reason.
    Intake {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The reporting organisation; default: the owner of the sender's domain, if any.
        #[arg(long)]
        org: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// How `incident deadlines` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DeadlineFormat {
    Text,
    Json,
    /// iCalendar: one VTODO per obligation.
    Ics,
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ObservableCommand {
    /// Add an observable (the kind is guessed unless given) and match it against stored events.
    Add {
        /// The incident's id or reference.
        id: String,
        /// The observable's value (an address, domain, URL, hash, e-mail address, ...).
        value: String,
        /// The observable's kind; guessed from the value when left out.
        #[arg(long)]
        kind: Option<String>,
        /// Not an indicator of compromise (e.g. a victim's address).
        #[arg(long)]
        not_ioc: bool,
        /// A note for the timeline.
        #[arg(long)]
        note: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum SummaryFormat {
    Json,
    Csv,
    Html,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Re-hash every stored evidence file and raw e-mail and report missing or altered ones
    /// (exit code 1 if any).
    Verify {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GroupsCommand {
    /// List the working groups with their members, meetings and open action items.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show a group: members (without self-declared gender or age), meetings, action items,
    /// documents (titles and TLP) and announcements.
    Show {
        /// The group's code or id.
        group: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Create a main group, or a sub-group with --parent.
    Create {
        /// A unique code: letters, digits, '-', '_', '.' (e.g. NWG-ENERGY).
        #[arg(long)]
        code: String,
        /// The group's name.
        #[arg(long)]
        name: String,
        /// What the group works on.
        #[arg(long)]
        description: Option<String>,
        /// The main group's code or id.
        #[arg(long)]
        parent: Option<String>,
        /// The convening organisation's short name; the operator organisation when left out.
        #[arg(long)]
        convener: Option<String>,
        /// The NIS2 sector of a sector sub-group (energy, banking, ...).
        #[arg(long)]
        sector: Option<String>,
        /// The group's diversity goals, in words (shown with its composition).
        #[arg(long)]
        diversity_goals: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add a member: a person from an organisation of the registry (--org) or from outside
    /// (--outside-org).
    AddMember {
        /// The group's code or id.
        group: String,
        /// The member's name.
        #[arg(long)]
        name: String,
        /// The member's e-mail address.
        #[arg(long)]
        email: String,
        /// The organisation's short name or id in the registry.
        #[arg(long, conflicts_with = "outside_org")]
        org: Option<String>,
        /// The name of an organisation outside the registry.
        #[arg(long)]
        outside_org: Option<String>,
        /// public, private, academia or civil_society.
        #[arg(long)]
        kind: String,
        /// A NIS2 sector slug the member represents.
        #[arg(long)]
        sector: Option<String>,
        /// chair, secretary, member or observer.
        #[arg(long, default_value = "member")]
        role: String,
        /// The language of announcements: en, bs, hr, sr-Latn or sr-Cyrl.
        #[arg(long, default_value = "en")]
        language: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove a member (by id or e-mail address).
    RemoveMember {
        /// The group's code or id.
        group: String,
        /// The member's id or e-mail address.
        member: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Schedule a meeting.
    AddMeeting {
        /// The group's code or id.
        group: String,
        /// The meeting's title.
        #[arg(long)]
        title: String,
        /// RFC 3339, e.g. 2026-12-01T10:00:00Z.
        #[arg(long)]
        starts_at: String,
        /// RFC 3339, not before --starts-at.
        #[arg(long)]
        ends_at: String,
        /// Where the meeting is held.
        #[arg(long)]
        place: Option<String>,
        /// The meeting's online address.
        #[arg(long)]
        online_url: Option<String>,
        /// An agenda item; repeat for more.
        #[arg(long)]
        agenda: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add an action item, optionally linked to an action of the strategy tracker.
    AddItem {
        /// The group's code or id.
        group: String,
        /// The action item's title.
        #[arg(long)]
        title: String,
        /// The owning member's id or e-mail address.
        #[arg(long)]
        owner: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        due: String,
        /// The id of the meeting that decided it.
        #[arg(long)]
        meeting: Option<String>,
        /// The strategic document's code or id (with --action).
        #[arg(long, requires = "action")]
        strategy: Option<String>,
        /// The strategy action's id.
        #[arg(long, requires = "strategy")]
        action: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Set an action item's status: open, in_progress, done or cancelled.
    SetItem {
        /// The group's code or id.
        group: String,
        /// The action item's id.
        item: String,
        /// The new status: open, in_progress, done or cancelled.
        #[arg(long)]
        status: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Share a Markdown or text file with the group under a TLP label.
    AddDocument {
        /// The group's code or id.
        group: String,
        /// The file (at most 512 KiB); `.md` is Markdown, anything else text.
        file: std::path::PathBuf,
        /// The document's title.
        #[arg(long)]
        title: String,
        /// CLEAR, GREEN, AMBER, AMBER+STRICT or RED.
        #[arg(long)]
        tlp: String,
        /// For TLP:RED: a member (id or e-mail) who may read it; repeat for more.
        #[arg(long)]
        recipient: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The group's composition by kind, sector, self-declared gender and age band (counts below
    /// 3 suppressed).
    Diversity {
        /// The group's code or id.
        group: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Announce to every member by e-mail (signed, in each member's language) through the
    /// [notify] configuration, and deliver at once.
    Announce {
        /// The group's code or id.
        group: String,
        /// The announcement's subject.
        #[arg(long)]
        subject: String,
        /// A plain-text file with the announcement's text.
        #[arg(long)]
        body_file: std::path::PathBuf,
        /// The TLP label; GREEN when left out.
        #[arg(long, default_value = "GREEN")]
        tlp: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command, subcommand and argument says what it is for in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() && command.get_long_about().is_none() {
                missing.push(format!("{path} (the command)"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: {id}"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "neretva", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
