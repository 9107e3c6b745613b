//! A course back to its package: the files [`crate::package::parse`] reads, so a course can be
//! edited in an editor and versioned in git again. Every text is written as a double-quoted
//! YAML scalar, so no text can change meaning on the way back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use neretva_model::contact::Language;

use crate::course::{Choice, Course, QuestionKind, Texts};
use crate::package::{Package, PackageError};
use crate::yaml::quote;

/// The package of a course.
pub fn export(course: &Course) -> Result<Package, PackageError> {
    let mut package = Package::default();
    package.insert("course.yaml", course_yaml(course).into_bytes())?;
    if course.quiz.is_some() {
        package.insert("quiz.yaml", quiz_yaml(course).into_bytes())?;
    }
    for (module, lesson) in course.lessons() {
        for (language, body) in &lesson.body {
            let path = format!("lessons/{language}/{}/{}.md", module.id, lesson.id);
            package.insert(&path, body.clone().into_bytes())?;
        }
    }
    for image in &course.images {
        package.insert(&format!("images/{}", image.name), image.data.clone())?;
    }
    Ok(package)
}

fn texts(out: &mut String, indent: usize, key: &str, texts: &Texts) {
    if texts.is_empty() {
        return;
    }
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}{key}:");
    for (language, text) in texts {
        let _ = writeln!(out, "{pad}  {language}: {}", quote(text));
    }
}

fn course_yaml(course: &Course) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "code: {}", quote(&course.code));
    let _ = writeln!(out, "version: {}", course.version);
    let languages: Vec<String> = course.languages.iter().map(|language| quote(language.tag())).collect();
    let _ = writeln!(out, "languages: [{}]", languages.join(", "));
    texts(&mut out, 0, "title", &course.title);
    texts(&mut out, 0, "description", &course.description);
    out.push_str("modules:\n");
    for module in &course.modules {
        let _ = writeln!(out, "  - id: {}", quote(&module.id));
        texts(&mut out, 4, "title", &module.title);
        out.push_str("    lessons:\n");
        for lesson in &module.lessons {
            let _ = writeln!(out, "      - id: {}", quote(&lesson.id));
            texts(&mut out, 8, "title", &lesson.title);
        }
    }
    out
}

fn options(out: &mut String, options: &[Choice]) {
    out.push_str("        options:\n");
    for option in options {
        let _ = writeln!(out, "          - id: {}", quote(&option.id));
        texts(out, 12, "text", &option.text);
        let _ = writeln!(out, "            correct: {}", option.correct);
        texts(out, 12, "feedback", &option.feedback);
    }
}

fn accept(out: &mut String, accept: &BTreeMap<Language, Vec<String>>) {
    out.push_str("        accept:\n");
    for (language, answers) in accept {
        let answers: Vec<String> = answers.iter().map(|answer| quote(answer)).collect();
        let _ = writeln!(out, "          {language}: [{}]", answers.join(", "));
    }
}

fn quiz_yaml(course: &Course) -> String {
    let mut out = String::new();
    let Some(quiz) = &course.quiz else { return out };
    let _ = writeln!(out, "pass_mark: {}", quiz.pass_mark);
    let _ = writeln!(out, "max_attempts: {}", quiz.max_attempts);
    let _ = writeln!(out, "time_limit_minutes: {}", quiz.time_limit_minutes);
    out.push_str("pools:\n");
    for pool in &quiz.pools {
        let _ = writeln!(out, "  - id: {}", quote(&pool.id));
        let _ = writeln!(out, "    draw: {}", pool.draw);
        out.push_str("    questions:\n");
        for question in &pool.questions {
            let _ = writeln!(out, "      - id: {}", quote(&question.id));
            let _ = writeln!(out, "        type: {}", question.kind.name());
            texts(&mut out, 8, "text", &question.text);
            texts(&mut out, 8, "explanation", &question.explanation);
            match &question.kind {
                QuestionKind::Single { options: choices } | QuestionKind::Multiple { options: choices } => {
                    options(&mut out, choices)
                }
                QuestionKind::TrueFalse { answer } => {
                    let _ = writeln!(out, "        answer: {answer}");
                }
                QuestionKind::ShortAnswer { accept: answers } => accept(&mut out, answers),
            }
        }
    }
    out
}
