//! The quiz engine: a seeded random draw from the pools, attempts with a limit and a deadline,
//! scoring with feedback per answer.
//!
//! **Architecture Invariant:** no randomness of its own and no clock: the seed of a draw and
//! `now` are arguments, so an attempt's questions are a function of its stored seed.

use std::collections::BTreeMap;

use neretva_model::contact::Language;
use neretva_model::{FieldError, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::course::{Choice, QuestionKind, Quiz, text_in};

/// SplitMix64: a small, well-mixed generator; enough to pick questions (the seed itself comes
/// from the operating system's random source).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (> 0), without modulo bias.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let value = self.next();
            if value < zone {
                return value % bound;
            }
        }
    }
}

/// The question ids of an attempt: `draw` questions of each pool, picked and ordered at random
/// from `seed`.
pub fn draw(quiz: &Quiz, seed: u64) -> Vec<String> {
    let mut random = SplitMix64(seed);
    let mut drawn = Vec::new();
    for pool in &quiz.pools {
        let mut ids: Vec<&str> = pool.questions.iter().map(|question| question.id.as_str()).collect();
        let take = (pool.draw as usize).min(ids.len());
        for index in 0..take {
            let pick = index + random.below((ids.len() - index) as u64) as usize;
            ids.swap(index, pick);
        }
        drawn.extend(ids[..take].iter().map(|id| (*id).to_owned()));
    }
    drawn
}

/// One attempt at a course's quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    /// 1 for the first attempt.
    pub number: u32,
    pub seed: u64,
    /// The questions drawn, in the order asked.
    pub questions: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    /// The last moment a submission is accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: Timestamp,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<Timestamp>,
    pub answers: BTreeMap<String, Response>,
    pub outcome: Option<Outcome>,
}

/// A learner's answer: an option id (single), option ids (multiple), `true`/`false`, or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Response {
    Bool(bool),
    Text(String),
    Choices(Vec<String>),
}

/// The result of a submitted attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub correct: u32,
    pub total: u32,
    /// `correct / total` in percent, rounded down.
    pub score: u8,
    pub passed: bool,
    pub feedback: Vec<Feedback>,
}

/// What the learner is told about one question right after submitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub question: String,
    pub answered: bool,
    pub correct: bool,
    /// The feedback of the options chosen, then the question's explanation, in the learner's
    /// language.
    pub messages: Vec<String>,
}

/// Why an attempt cannot be started or submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the course has no quiz")]
    NoQuiz,
    #[error("the quiz was passed already")]
    AlreadyPassed,
    #[error("all {max} attempts have been used")]
    NoAttemptsLeft { max: u32 },
    #[error("attempt {number} is still open until {deadline}; submit it first")]
    AttemptOpen { number: u32, deadline: String },
    #[error("attempt {number} was submitted already; an attempt is submitted once")]
    AlreadySubmitted { number: u32 },
    #[error("the time for attempt {number} ended at {deadline}; the submission is refused")]
    DeadlinePassed { number: u32, deadline: String },
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Starts the next attempt when the rules allow: the quiz not passed yet, no attempt open,
/// attempts left. `previous` are the enrolment's attempts so far.
pub fn start(
    quiz: Option<&Quiz>,
    previous: &[Attempt],
    id: Uuid,
    enrolment_id: Uuid,
    seed: u64,
    now: Timestamp,
) -> Result<Attempt, Refusal> {
    let quiz = quiz.ok_or(Refusal::NoQuiz)?;
    if previous.iter().any(|attempt| attempt.outcome.as_ref().is_some_and(|outcome| outcome.passed)) {
        return Err(Refusal::AlreadyPassed);
    }
    if let Some(open) =
        previous.iter().find(|attempt| attempt.submitted_at.is_none() && now <= attempt.deadline)
    {
        return Err(Refusal::AttemptOpen { number: open.number, deadline: rfc3339(open.deadline) });
    }
    let used = u32::try_from(previous.len()).unwrap_or(u32::MAX);
    if used >= quiz.max_attempts {
        return Err(Refusal::NoAttemptsLeft { max: quiz.max_attempts });
    }
    Ok(Attempt {
        id,
        enrolment_id,
        number: used + 1,
        seed,
        questions: draw(quiz, seed),
        started_at: now,
        deadline: now + time::Duration::minutes(i64::from(quiz.time_limit_minutes)),
        submitted_at: None,
        answers: BTreeMap::new(),
        outcome: None,
    })
}

/// Submits an attempt: refused when submitted already or after its deadline; answers to
/// questions not asked, or of the wrong kind, are errors naming `answers.<question>`.
/// Unanswered questions count as wrong.
pub fn submit(
    quiz: &Quiz,
    attempt: &Attempt,
    answers: BTreeMap<String, Response>,
    language: Language,
    fallback: Language,
    now: Timestamp,
) -> Result<Result<Attempt, Vec<FieldError>>, Refusal> {
    if attempt.submitted_at.is_some() {
        return Err(Refusal::AlreadySubmitted { number: attempt.number });
    }
    if now > attempt.deadline {
        return Err(Refusal::DeadlinePassed { number: attempt.number, deadline: rfc3339(attempt.deadline) });
    }
    let mut errors = Vec::new();
    for (question, response) in &answers {
        let field = format!("answers.{question}");
        match quiz.question(question).filter(|_| attempt.questions.contains(question)) {
            None => errors.push(FieldError::new(field, "not a question of this attempt")),
            Some(asked) => {
                if let Err(message) = check_response(&asked.kind, response) {
                    errors.push(FieldError::new(field, message));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut feedback = Vec::new();
    for id in &attempt.questions {
        let Some(question) = quiz.question(id) else { continue };
        let response = answers.get(id);
        let mut messages = Vec::new();
        let correct = match (&question.kind, response) {
            (_, None) => false,
            (QuestionKind::Single { options }, Some(Response::Text(choice))) => {
                chosen_feedback(options, std::slice::from_ref(choice), language, fallback, &mut messages);
                options.iter().any(|option| option.correct && option.id == *choice)
            }
            (QuestionKind::Multiple { options }, Some(Response::Choices(choices))) => {
                chosen_feedback(options, choices, language, fallback, &mut messages);
                options.iter().all(|option| option.correct == choices.contains(&option.id))
            }
            (QuestionKind::TrueFalse { answer }, Some(Response::Bool(given))) => answer == given,
            (QuestionKind::ShortAnswer { accept }, Some(Response::Text(text))) => {
                let given = normalise(text);
                let accepted = accept.get(&language).or_else(|| accept.get(&fallback));
                accepted.into_iter().flatten().any(|answer| normalise(answer) == given)
            }
            _ => false,
        };
        let explanation = text_in(&question.explanation, language, fallback);
        if !explanation.is_empty() {
            messages.push(explanation.to_owned());
        }
        feedback.push(Feedback { question: id.clone(), answered: response.is_some(), correct, messages });
    }
    let total = u32::try_from(feedback.len()).unwrap_or(u32::MAX);
    let correct = u32::try_from(feedback.iter().filter(|item| item.correct).count()).unwrap_or(0);
    let score = (correct * 100).checked_div(total).map_or(0, |score| u8::try_from(score).unwrap_or(100));
    let mut submitted = attempt.clone();
    submitted.submitted_at = Some(now);
    submitted.answers = answers;
    submitted.outcome = Some(Outcome { correct, total, score, passed: score >= quiz.pass_mark, feedback });
    Ok(Ok(submitted))
}

fn check_response(kind: &QuestionKind, response: &Response) -> Result<(), String> {
    let option_ids = |options: &[Choice]| options.iter().map(|option| option.id.clone()).collect::<Vec<_>>();
    match (kind, response) {
        (QuestionKind::Single { options }, Response::Text(choice)) => {
            if options.iter().any(|option| option.id == *choice) {
                Ok(())
            } else {
                Err(format!("{choice:?} is not an option ({})", option_ids(options).join(", ")))
            }
        }
        (QuestionKind::Multiple { options }, Response::Choices(choices)) => {
            match choices.iter().find(|choice| !options.iter().any(|option| option.id == **choice)) {
                Some(choice) => {
                    Err(format!("{choice:?} is not an option ({})", option_ids(options).join(", ")))
                }
                None if choices.len() > options.len() => Err("an option is chosen twice".to_owned()),
                None => Ok(()),
            }
        }
        (QuestionKind::TrueFalse { .. }, Response::Bool(_)) => Ok(()),
        (QuestionKind::ShortAnswer { .. }, Response::Text(text)) if text.chars().count() <= 500 => Ok(()),
        (QuestionKind::ShortAnswer { .. }, Response::Text(_)) => Err("longer than 500 characters".to_owned()),
        (kind, _) => Err(format!(
            "a {} question takes {}",
            kind.name(),
            match kind {
                QuestionKind::Single { .. } => "one option id",
                QuestionKind::Multiple { .. } => "a list of option ids",
                QuestionKind::TrueFalse { .. } => "true or false",
                QuestionKind::ShortAnswer { .. } => "text",
            }
        )),
    }
}

fn chosen_feedback(
    options: &[Choice],
    chosen: &[String],
    language: Language,
    fallback: Language,
    messages: &mut Vec<String>,
) {
    for option in options.iter().filter(|option| chosen.contains(&option.id)) {
        let text = text_in(&option.feedback, language, fallback);
        if !text.is_empty() {
            messages.push(text.to_owned());
        }
    }
}

/// Short answers compare without case, with white space collapsed.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}
