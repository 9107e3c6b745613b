//! `neretva learning`: course packages in and out, the course list, learning records (and their
//! xAPI statements) and certificate checks, on the store directly.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use neretva_learning::certificate::normalise_code;
use neretva_learning::course::text_in;
use neretva_learning::enrolment;
use neretva_learning::export;
use neretva_learning::package::{self, Limits, Package, PackageError, is_ignored};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_store::Store;
use neretva_store::learning::{EnrolmentQuery, StoredCourse};

use crate::cli::LearningCommand;
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

pub(crate) async fn command(config: &Config, command: LearningCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let store = store.as_ref();
    match command {
        LearningCommand::Import { path, json } => import(store, &path, json).await,
        LearningCommand::Export { course, out, json } => export_course(store, &course, &out, json).await,
        LearningCommand::List { json } => list(store, json).await,
        LearningCommand::Records { course, user, xapi, base, json } => {
            records(store, course.as_deref(), user.as_deref(), xapi.then_some(base.as_str()), json).await
        }
        LearningCommand::Verify { code, json } => verify(store, &code, json).await,
        LearningCommand::Training(command) => {
            crate::training::command(store, &config.server.operator_org, command).await
        }
        LearningCommand::Scenario(command) => crate::exercises::scenario_command(store, command).await,
        LearningCommand::Exercises { json } => crate::exercises::list(store, json).await,
        LearningCommand::Exercise(command) => crate::exercises::exercise_command(store, command).await,
    }
}

/// Reads a package folder: every file under it except hidden ones, within the limits.
pub(crate) fn read_folder(root: &Path, limits: &Limits) -> anyhow::Result<Package> {
    let mut package = Package::default();
    let mut total = 0u64;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let path = entry?.path();
            let relative = path
                .strip_prefix(root)
                .ok()
                .and_then(Path::to_str)
                .map(|text| text.replace('\\', "/"))
                .with_context(|| format!("{}: not a UTF-8 path", path.display()))?;
            if is_ignored(&relative) {
                continue;
            }
            let kind = std::fs::symlink_metadata(&path)?.file_type();
            if kind.is_symlink() {
                bail!("{relative}: symbolic links are not followed in course packages");
            } else if kind.is_dir() {
                pending.push(path);
            } else {
                total += std::fs::metadata(&path)?.len();
                if total > limits.max_total_bytes {
                    bail!("{}: larger than {} bytes", root.display(), limits.max_total_bytes);
                }
                if package.files().len() >= limits.max_files {
                    bail!("{}: more than {} files", root.display(), limits.max_files);
                }
                let data = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                package.insert(&relative, data).map_err(|error| anyhow::anyhow!("{error}"))?;
            }
        }
    }
    Ok(package)
}

fn print_problems(errors: &[PackageError], json: bool) {
    if json {
        let problems: Vec<serde_json::Value> = errors
            .iter()
            .map(|error| serde_json::json!({ "file": error.file, "line": error.line, "message": error.message }))
            .collect();
        output::json(&serde_json::json!({ "imported": false, "problems": problems }));
    } else {
        for error in errors {
            output::line(&error.to_string());
        }
        output::error(&format!("error: the package has {} problems; nothing was imported", errors.len()));
    }
}

async fn import(store: &dyn Store, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let package = if path.is_dir() {
        read_folder(path, &limits)?
    } else {
        let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
        if size > limits.max_total_bytes {
            bail!(
                "{}: {size} bytes, more than the {} a package may have",
                path.display(),
                limits.max_total_bytes
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match Package::from_zip(&bytes, &limits) {
            Ok(package) => package,
            Err(errors) => {
                print_problems(&errors, json);
                return Ok(ExitCode::FAILURE);
            }
        }
    };
    let course = match package::parse(&package, &limits) {
        Ok(course) => course,
        Err(errors) => {
            print_problems(&errors, json);
            return Ok(ExitCode::FAILURE);
        }
    };
    let stored = store.import_course(&cli_actor(), neretva_model::Uuid::now_v7(), &course).await?;
    if json {
        output::json(&serde_json::json!({
            "imported": true, "id": stored.id, "code": course.code, "version": course.version,
            "languages": course.languages, "lessons": course.lessons().count(),
        }));
    } else {
        output::line(&format!("imported {} version {} ({})", course.code, course.version, stored.id));
    }
    Ok(ExitCode::SUCCESS)
}

/// A course by id, or the newest version of a code.
async fn find(store: &dyn Store, key: &str) -> anyhow::Result<StoredCourse> {
    if let Ok(id) = neretva_model::Uuid::try_parse(key)
        && let Some(stored) = store.get_course(id).await?
    {
        return Ok(stored);
    }
    store
        .list_courses()
        .await?
        .into_iter()
        .filter(|stored| stored.course.code == key)
        .max_by_key(|stored| stored.course.version)
        .with_context(|| format!("no course {key:?}"))
}

async fn export_course(store: &dyn Store, key: &str, out: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let stored = find(store, key).await?;
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{}: the folder is not empty", out.display());
    }
    let package = export::export(&stored.course).map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut digest_input = Vec::new();
    for (path, data) in package.files() {
        let target = out.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, data).with_context(|| format!("cannot write {}", target.display()))?;
        digest_input.extend_from_slice(path.as_bytes());
        digest_input.extend_from_slice(data);
    }
    store
        .append_audit(&AuditEvent {
            actor: cli_actor().0,
            action: "learning.course.export".into(),
            object_type: "course".into(),
            object_id: stored.id.to_string(),
            digest: digest_hex(&digest_input),
        })
        .await?;
    if json {
        output::json(&serde_json::json!({ "files": package.files().keys().collect::<Vec<_>>(), "out": out }));
    } else {
        output::line(&format!("wrote {} files to {}", package.files().len(), out.display()));
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(store: &dyn Store, json: bool) -> anyhow::Result<ExitCode> {
    let courses = store.list_courses().await?;
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for stored in &courses {
        let course = &stored.course;
        let query = EnrolmentQuery { course_id: Some(stored.id), ..EnrolmentQuery::default() };
        let enrolments = store.list_enrolments(&query).await?;
        let completed = enrolments.iter().filter(|stored| stored.enrolment.completed_at.is_some()).count();
        let title = text_in(&course.title, course.default_language(), course.default_language());
        let languages: Vec<&str> = course.languages.iter().map(|language| language.tag()).collect();
        items.push(serde_json::json!({
            "id": stored.id, "code": course.code, "version": course.version, "title": title,
            "languages": languages, "lessons": course.lessons().count(), "has_quiz": course.quiz.is_some(),
            "enrolments": enrolments.len(), "completed": completed,
        }));
        rows.push(vec![
            course.code.clone(),
            course.version.to_string(),
            languages.join(","),
            course.lessons().count().to_string(),
            enrolments.len().to_string(),
            completed.to_string(),
            title.to_owned(),
            stored.id.to_string(),
        ]);
    }
    if json {
        output::json(&items);
    } else {
        output::table(
            &["CODE", "VERSION", "LANGUAGES", "LESSONS", "ENROLLED", "COMPLETED", "TITLE", "ID"],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn records(
    store: &dyn Store,
    course: Option<&str>,
    user: Option<&str>,
    xapi_base: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut query = EnrolmentQuery::default();
    if let Some(key) = course {
        query.course_id = Some(find(store, key).await?.id);
    }
    if let Some(username) = user {
        query.user_id =
            Some(store.find_user(username).await?.with_context(|| format!("no user {username:?}"))?.id);
    }
    let enrolments = store.list_enrolments(&query).await?;
    if let Some(base) = xapi_base {
        let statements = neretva_server::learning::statements_for(store, &enrolments, base).await?;
        let body = serde_json::to_string_pretty(&statements)?;
        store
            .append_audit(&AuditEvent {
                actor: cli_actor().0,
                action: "learning.records.export".into(),
                object_type: "learning_records".into(),
                object_id: format!("{} enrolments", enrolments.len()),
                digest: digest_hex(body.as_bytes()),
            })
            .await?;
        output::line(&body);
        return Ok(ExitCode::SUCCESS);
    }
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for stored in &enrolments {
        let enrolment = &stored.enrolment;
        let Some(course) = store.get_course(enrolment.course_id).await? else { continue };
        let progress = enrolment::progress(&course.course, enrolment);
        let username = store.get_user(enrolment.user_id).await?.map(|user| user.username).unwrap_or_default();
        let certificate =
            store.enrolment_certificate(enrolment.id).await?.map(|certificate| certificate.code);
        let attempts = store.list_attempts(enrolment.id).await?;
        let best =
            attempts.iter().filter_map(|attempt| attempt.outcome.as_ref().map(|outcome| outcome.score)).max();
        items.push(serde_json::json!({
            "enrolment": enrolment.id, "user": username, "course": course.course.code,
            "version": course.course.version, "lessons_done": progress.lessons_done,
            "lessons_total": progress.lessons_total, "attempts": attempts.len(), "best_score": best,
            "quiz_passed": progress.quiz_passed, "complete": progress.complete, "certificate": certificate,
        }));
        rows.push(vec![
            username,
            format!("{} v{}", course.course.code, course.course.version),
            format!("{}/{}", progress.lessons_done, progress.lessons_total),
            attempts.len().to_string(),
            best.map(|score| format!("{score}%")).unwrap_or_else(|| "-".into()),
            certificate.unwrap_or_else(|| "-".into()),
        ]);
    }
    if json {
        output::json(&items);
    } else {
        output::table(&["USER", "COURSE", "LESSONS", "ATTEMPTS", "BEST", "CERTIFICATE"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify(store: &dyn Store, code: &str, json: bool) -> anyhow::Result<ExitCode> {
    let certificate = match normalise_code(code) {
        Some(code) => store.get_certificate(&code).await?,
        None => None,
    };
    let Some(certificate) = certificate else {
        if json {
            output::json(&serde_json::json!({ "valid": false }));
        } else {
            output::line(&format!("{code}: no such certificate"));
        }
        return Ok(ExitCode::FAILURE);
    };
    let title = certificate.course_title.values().next().cloned().unwrap_or_default();
    if json {
        output::json(&serde_json::json!({
            "valid": true, "code": certificate.code, "holder": certificate.holder,
            "course": certificate.course_code, "course_version": certificate.course_version,
            "course_title": title, "issued_on": certificate.issued_at.date().to_string(),
        }));
    } else {
        output::line(&format!(
            "{}: valid — {} completed {} ({} v{}) on {}",
            certificate.code,
            certificate.holder,
            title,
            certificate.course_code,
            certificate.course_version,
            certificate.issued_at.date()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
