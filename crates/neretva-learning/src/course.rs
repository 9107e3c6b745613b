//! Courses: modules of lessons in Markdown per language, a quiz of question pools, and images.
//!
//! A `Course` is what a package yields once every check passed ([`crate::package::parse`]); it
//! is stored whole as JSON and exported back to a package ([`crate::export`]).

use std::collections::BTreeMap;

use neretva_model::contact::Language;
use serde::{Deserialize, Serialize};

/// A text in each of the course's languages.
pub type Texts = BTreeMap<Language, String>;

/// The text in `language`, else in the course's first language, else any.
pub fn text_in(texts: &Texts, language: Language, fallback: Language) -> &str {
    texts
        .get(&language)
        .or_else(|| texts.get(&fallback))
        .or_else(|| texts.values().next())
        .map_or("", String::as_str)
}

/// A course at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Course {
    /// A short lower-case name (`[a-z0-9-]`), the course's identity across versions.
    pub code: String,
    /// 1 for the first version; a package with a higher version is a new version of the course.
    pub version: u32,
    /// The languages every text is given in; the first is the default.
    pub languages: Vec<Language>,
    pub title: Texts,
    pub description: Texts,
    pub modules: Vec<Module>,
    pub quiz: Option<Quiz>,
    /// The images lessons show, by file name.
    pub images: Vec<Image>,
}

impl Course {
    /// The default language.
    pub fn default_language(&self) -> Language {
        self.languages.first().copied().unwrap_or(Language::En)
    }

    /// Every lesson as `(module, lesson)`, in course order.
    pub fn lessons(&self) -> impl Iterator<Item = (&Module, &Lesson)> {
        self.modules.iter().flat_map(|module| module.lessons.iter().map(move |lesson| (module, lesson)))
    }

    /// The lesson with key `module/lesson`.
    pub fn lesson(&self, key: &str) -> Option<(&Module, &Lesson)> {
        let (module, lesson) = key.split_once('/')?;
        self.lessons().find(|(m, l)| m.id == module && l.id == lesson)
    }

    pub fn image(&self, name: &str) -> Option<&Image> {
        self.images.iter().find(|image| image.name == name)
    }
}

/// A module: a titled list of lessons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub id: String,
    pub title: Texts,
    pub lessons: Vec<Lesson>,
}

/// A lesson: its Markdown text per language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: String,
    pub title: Texts,
    /// Markdown, per language.
    pub body: Texts,
}

impl Lesson {
    /// The key progress is recorded under: `module/lesson`.
    pub fn key(&self, module: &Module) -> String {
        format!("{}/{}", module.id, self.id)
    }
}

/// An image of the package (`images/<name>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub name: String,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`, from the file's first bytes.
    pub media_type: String,
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

/// A quiz: questions drawn from pools at each attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quiz {
    /// The score, in percent, that passes.
    pub pass_mark: u8,
    /// How many attempts a learner has.
    pub max_attempts: u32,
    /// How long an attempt may take; a submission after it is refused.
    pub time_limit_minutes: u32,
    pub pools: Vec<Pool>,
}

impl Quiz {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.pools.iter().flat_map(|pool| &pool.questions).find(|question| question.id == id)
    }

    /// How many questions an attempt has.
    pub fn drawn(&self) -> u32 {
        self.pools.iter().map(|pool| pool.draw).sum()
    }
}

/// A question pool: `draw` of its questions are asked at each attempt, picked at random.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub id: String,
    pub draw: u32,
    pub questions: Vec<Question>,
}

/// A question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: Texts,
    /// Shown after the answer, right or wrong.
    pub explanation: Texts,
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// What kind of answer a question takes, and which answers are right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// One option is right.
    Single {
        options: Vec<Choice>,
    },
    /// Every right option and no other must be chosen.
    Multiple {
        options: Vec<Choice>,
    },
    TrueFalse {
        answer: bool,
    },
    /// Any accepted answer of the learner's language (compared without case, with white space
    /// collapsed).
    ShortAnswer {
        accept: BTreeMap<Language, Vec<String>>,
    },
}

impl QuestionKind {
    /// The name used in packages and the API.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "single",
            QuestionKind::Multiple { .. } => "multiple",
            QuestionKind::TrueFalse { .. } => "true_false",
            QuestionKind::ShortAnswer { .. } => "short_answer",
        }
    }
}

/// An option of a choice question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub text: Texts,
    pub correct: bool,
    /// Shown when the learner chose this option.
    pub feedback: Texts,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
