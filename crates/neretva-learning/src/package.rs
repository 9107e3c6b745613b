//! Course packages: a folder (or a zip of one) of YAML and Markdown, written in an editor and
//! versioned in git.
//!
//! ```text
//! course.yaml                              code, version, languages, title, description, modules
//! quiz.yaml                                optional: pass mark, attempts, time limit, question pools
//! lessons/<language>/<module>/<lesson>.md  one Markdown file per lesson and language
//! images/<name>.png|jpg|jpeg|gif|webp      images the lessons show as ![alt](images/<name>)
//! README.md                                optional, ignored
//! ```
//!
//! [`parse`] checks everything and reports every problem with its file and line; it yields a
//! [`Course`] only when there is none. Files and folders whose name starts with `.` (such as
//! `.git`) and `__MACOSX` are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{Cursor, Read};

use neretva_model::contact::Language;

use crate::course::{Choice, Course, Image, Lesson, Module, Pool, Question, QuestionKind, Quiz, Texts};
use crate::markdown;
use crate::yaml::{self, Node};

/// What a package may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_files: usize,
    pub max_total_bytes: u64,
    pub max_yaml_bytes: u64,
    pub max_lesson_bytes: u64,
    pub max_image_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_files: 2_000,
            max_total_bytes: 32 * 1024 * 1024,
            max_yaml_bytes: 1024 * 1024,
            max_lesson_bytes: 512 * 1024,
            max_image_bytes: 2 * 1024 * 1024,
        }
    }
}

/// The longest title, description or question text, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The most errors reported; past it the list ends with a note.
pub const MAX_ERRORS: usize = 1_000;

/// A problem of a package, with the file and, where it has one, the line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageError {
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PackageError {}

impl PackageError {
    fn new(file: &str, line: Option<u32>, message: impl Into<String>) -> PackageError {
        PackageError { file: file.to_owned(), line, message: message.into() }
    }
}

/// The files of a package by relative path (`/`-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    files: BTreeMap<String, Vec<u8>>,
}

/// Whether a path is left out of packages: hidden files and folders, macOS zip metadata.
pub fn is_ignored(path: &str) -> bool {
    path.split('/').any(|part| part.starts_with('.') || part == "__MACOSX")
}

impl Package {
    /// Adds a file; an absolute path, `..` or `\` is refused. Ignored paths are skipped.
    pub fn insert(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), PackageError> {
        if path.is_empty()
            || path.starts_with('/')
            || path.contains('\\')
            || path.split('/').any(|part| part.is_empty() || part == "..")
        {
            return Err(PackageError::new(path, None, "not a relative path inside the package"));
        }
        if !is_ignored(path) {
            self.files.insert(path.to_owned(), bytes);
        }
        Ok(())
    }

    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    /// Reads a zip archive. When the archive holds one folder with the package in it (as
    /// zipping a folder does), the folder's name is taken off every path.
    pub fn from_zip(bytes: &[u8], limits: &Limits) -> Result<Package, Vec<PackageError>> {
        const ARCHIVE: &str = "(zip)";
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|error| vec![PackageError::new(ARCHIVE, None, format!("not a zip archive: {error}"))])?;
        if archive.len() > limits.max_files * 2 {
            return Err(vec![PackageError::new(
                ARCHIVE,
                None,
                format!("{} entries; at most {} files are read", archive.len(), limits.max_files),
            )]);
        }
        let mut errors = Vec::new();
        let mut files = Vec::new();
        let mut total = 0u64;
        for index in 0..archive.len() {
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(error) => {
                    errors.push(PackageError::new(ARCHIVE, None, format!("entry {index}: {error}")));
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let raw_name = entry.name().map_or_else(|_| format!("entry {index}"), |name| name.into_owned());
            let Some(path) = entry.enclosed_name().and_then(|path| {
                let parts: Option<Vec<&str>> =
                    path.components().map(|part| part.as_os_str().to_str()).collect();
                parts.map(|parts| parts.join("/"))
            }) else {
                errors.push(PackageError::new(&raw_name, None, "a path outside the package"));
                continue;
            };
            if is_ignored(&path) {
                continue;
            }
            let limit = limits.max_total_bytes.saturating_sub(total);
            let mut data = Vec::new();
            match (&mut entry).take(limit + 1).read_to_end(&mut data) {
                Ok(_) if data.len() as u64 > limit => {
                    errors.push(PackageError::new(
                        &path,
                        None,
                        format!("the package is larger than {} bytes unpacked", limits.max_total_bytes),
                    ));
                    break;
                }
                Ok(_) => {}
                Err(error) => {
                    errors.push(PackageError::new(&path, None, format!("cannot be unpacked: {error}")));
                    continue;
                }
            }
            total += data.len() as u64;
            files.push((path, data));
            if files.len() > limits.max_files {
                errors.push(PackageError::new(
                    ARCHIVE,
                    None,
                    format!("more than {} files", limits.max_files),
                ));
                break;
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let prefix = common_folder(files.iter().map(|(path, _)| path.as_str()));
        let mut package = Package::default();
        for (path, data) in files {
            let path = prefix.as_ref().map_or(path.as_str(), |prefix| &path[prefix.len()..]);
            if let Err(error) = package.insert(path, data) {
                errors.push(error);
            }
        }
        if errors.is_empty() { Ok(package) } else { Err(errors) }
    }
}

/// `folder/` when every path is inside one folder and there is no `course.yaml` at the top.
fn common_folder<'a>(mut paths: impl Iterator<Item = &'a str>) -> Option<String> {
    let first = paths.next()?;
    let (folder, _) = first.split_once('/')?;
    let prefix = format!("{folder}/");
    paths.all(|path| path.starts_with(&prefix)).then_some(prefix)
}

/// Checks a package and yields its course, or every problem found (sorted by file and line).
pub fn parse(package: &Package, limits: &Limits) -> Result<Course, Vec<PackageError>> {
    let mut errors = Vec::new();
    let total: u64 = package.files.values().map(|data| data.len() as u64).sum();
    if total > limits.max_total_bytes {
        errors.push(PackageError::new(
            "(package)",
            None,
            format!("{total} bytes; at most {} are accepted", limits.max_total_bytes),
        ));
    }
    if package.files.len() > limits.max_files {
        errors.push(PackageError::new("(package)", None, format!("more than {} files", limits.max_files)));
    }

    let course_file = read_yaml(package, "course.yaml", limits, &mut errors, true);
    let quiz_file = read_yaml(package, "quiz.yaml", limits, &mut errors, false);

    let head = course_file.as_ref().map(|node| course_head(node, &mut errors));
    let languages = head.as_ref().map(|head| head.languages.clone()).unwrap_or_default();
    let quiz = quiz_file.as_ref().and_then(|node| {
        let mut reader = Reader { file: "quiz.yaml", errors: &mut errors, languages: &languages };
        reader.quiz(node)
    });

    // Images first: lessons refer to them.
    let mut images = Vec::new();
    for (path, data) in &package.files {
        if let Some(name) = path.strip_prefix("images/")
            && let Some(image) = check_image(path, name, data, limits, &mut errors)
        {
            images.push(image);
        }
    }
    let image_names: BTreeSet<&str> = images.iter().map(|image| image.name.as_str()).collect();

    // Lessons: every one in every language, and no other file.
    let mut expected = BTreeSet::new();
    let mut modules = Vec::new();
    if let Some(head) = &head {
        for module in &head.modules {
            let mut lessons = Vec::new();
            for lesson in &module.lessons {
                let mut body = Texts::new();
                for language in &languages {
                    let path = format!("lessons/{language}/{}/{}.md", module.id, lesson.id);
                    expected.insert(path.clone());
                    match package.files.get(&path) {
                        None => errors.push(PackageError::new(
                            "course.yaml",
                            Some(lesson.line),
                            format!("lesson {}/{} has no {path}", module.id, lesson.id),
                        )),
                        Some(data) => {
                            if let Some(text) = check_lesson(&path, data, limits, &image_names, &mut errors) {
                                body.insert(*language, text);
                            }
                        }
                    }
                }
                lessons.push(Lesson { id: lesson.id.clone(), title: lesson.title.clone(), body });
            }
            modules.push(Module { id: module.id.clone(), title: module.title.clone(), lessons });
        }
    }
    for path in package.files.keys() {
        let known = matches!(path.as_str(), "course.yaml" | "quiz.yaml" | "README.md")
            || path.starts_with("images/")
            || expected.contains(path);
        if known {
            continue;
        }
        let message = if path.starts_with("lessons/") {
            "not a lesson of course.yaml (lessons/<language>/<module>/<lesson>.md)"
        } else {
            "not part of a course package (course.yaml, quiz.yaml, lessons/, images/, README.md)"
        };
        errors.push(PackageError::new(path, None, message));
    }

    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        if errors.len() > MAX_ERRORS {
            let more = errors.len() - MAX_ERRORS;
            errors.truncate(MAX_ERRORS);
            errors.push(PackageError::new("(package)", None, format!("{more} more errors not shown")));
        }
        return Err(errors);
    }
    let Some(head) = head else {
        return Err(vec![PackageError::new("course.yaml", None, "missing")]);
    };
    Ok(Course {
        code: head.code,
        version: head.version,
        languages,
        title: head.title,
        description: head.description,
        modules,
        quiz,
        images,
    })
}

fn read_yaml(
    package: &Package,
    file: &str,
    limits: &Limits,
    errors: &mut Vec<PackageError>,
    required: bool,
) -> Option<Node> {
    let Some(data) = package.files.get(file) else {
        if required {
            errors.push(PackageError::new(file, None, "missing: every package has a course.yaml at its top"));
        }
        return None;
    };
    if data.len() as u64 > limits.max_yaml_bytes {
        errors.push(PackageError::new(file, None, format!("larger than {} bytes", limits.max_yaml_bytes)));
        return None;
    }
    let text = utf8(file, data, errors)?;
    match yaml::parse(text) {
        Ok(node) => Some(node),
        Err((line, message)) => {
            errors.push(PackageError::new(file, Some(line), message));
            None
        }
    }
}

/// The text of a file, or an error at the line of its first bad byte.
fn utf8<'a>(file: &str, data: &'a [u8], errors: &mut Vec<PackageError>) -> Option<&'a str> {
    match std::str::from_utf8(data) {
        Ok(text) => Some(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(error) => {
            let line = line_at(data, error.valid_up_to());
            errors.push(PackageError::new(file, Some(line), "not UTF-8 text"));
            None
        }
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_at(data: &[u8], offset: usize) -> u32 {
    let newlines = data[..offset.min(data.len())].iter().filter(|byte| **byte == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

fn check_lesson(
    path: &str,
    data: &[u8],
    limits: &Limits,
    images: &BTreeSet<&str>,
    errors: &mut Vec<PackageError>,
) -> Option<String> {
    if data.len() as u64 > limits.max_lesson_bytes {
        errors.push(PackageError::new(path, None, format!("larger than {} bytes", limits.max_lesson_bytes)));
        return None;
    }
    let text = utf8(path, data, errors)?;
    if text.trim().is_empty() {
        errors.push(PackageError::new(path, Some(1), "the lesson is empty"));
    }
    let before = errors.len();
    for (line, target) in markdown::image_targets(text) {
        match target.strip_prefix("images/") {
            Some(name) if images.contains(name) => {}
            Some(name) => errors.push(PackageError::new(
                path,
                Some(line),
                format!("image {name:?} is not in the package's images/ folder"),
            )),
            None => errors.push(PackageError::new(
                path,
                Some(line),
                format!("image {target:?}: images must be files of the package, written images/<name>"),
            )),
        }
    }
    (errors.len() == before).then(|| text.to_owned())
}

fn check_image(
    path: &str,
    name: &str,
    data: &[u8],
    limits: &Limits,
    errors: &mut Vec<PackageError>,
) -> Option<Image> {
    let valid_name = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        errors.push(PackageError::new(path, None, "image names are letters, digits, '.', '_' and '-' only"));
        return None;
    }
    if data.len() as u64 > limits.max_image_bytes {
        errors.push(PackageError::new(path, None, format!("larger than {} bytes", limits.max_image_bytes)));
        return None;
    }
    let extension = name.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase());
    let expected = match extension.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => {
            errors.push(PackageError::new(path, None, "images are .png, .jpg, .jpeg, .gif or .webp"));
            return None;
        }
    };
    let found = if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        "image/gif"
    } else if data.len() >= 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "unknown"
    };
    if found != expected {
        errors.push(PackageError::new(path, None, format!("the file's content is not of type {expected}")));
        return None;
    }
    Some(Image { name: name.to_owned(), media_type: expected.to_owned(), data: data.to_vec() })
}

// course.yaml and quiz.yaml.

struct Head {
    code: String,
    version: u32,
    languages: Vec<Language>,
    title: Texts,
    description: Texts,
    modules: Vec<ModuleHead>,
}

struct ModuleHead {
    id: String,
    title: Texts,
    lessons: Vec<LessonHead>,
}

struct LessonHead {
    id: String,
    title: Texts,
    line: u32,
}

fn course_head(node: &Node, errors: &mut Vec<PackageError>) -> Head {
    // Languages first: every text is checked against them.
    let mut languages = Vec::new();
    {
        let mut reader = Reader { file: "course.yaml", errors: &mut *errors, languages: &[] };
        if let Some(fields) = reader.fields(node, "the course", &[]) {
            match fields.get("languages") {
                None => reader.err(fields.line, "missing `languages`"),
                Some(list) => {
                    for item in reader.list(list, "languages").unwrap_or_default() {
                        let Some(text) = reader.text(item, "a language") else { continue };
                        match text.parse::<Language>() {
                            Ok(language) if languages.contains(&language) => {
                                reader.err(item.line(), format!("language {language} is listed twice"))
                            }
                            Ok(language) => languages.push(language),
                            Err(error) => reader.err(item.line(), error.message),
                        }
                    }
                    if languages.is_empty() && matches!(list, Node::Seq { .. }) {
                        reader.err(list.line(), "at least one language");
                    }
                }
            }
        }
    }
    let mut reader = Reader { file: "course.yaml", errors, languages: &languages };
    let mut head = Head {
        code: String::new(),
        version: 0,
        languages: languages.clone(),
        title: Texts::new(),
        description: Texts::new(),
        modules: Vec::new(),
    };
    let Some(fields) = reader.fields(
        node,
        "the course",
        &["code", "version", "languages", "title", "description", "modules"],
    ) else {
        return head;
    };
    head.code = fields.required(&mut reader, "code").and_then(|n| reader.slug(n, "code")).unwrap_or_default();
    head.version = fields
        .required(&mut reader, "version")
        .and_then(|n| reader.number(n, "version", 1, 1_000_000))
        .unwrap_or(0);
    head.title = fields.required(&mut reader, "title").map(|n| reader.texts(n, "title")).unwrap_or_default();
    head.description = fields.get("description").map(|n| reader.texts(n, "description")).unwrap_or_default();
    let mut module_ids = BTreeSet::new();
    let modules = fields.required(&mut reader, "modules").and_then(|n| reader.list(n, "modules"));
    if let Some(modules) = modules {
        if modules.is_empty() {
            reader.err(fields.line, "a course has at least one module");
        }
        for module_node in modules {
            let Some(module) = reader.fields(module_node, "a module", &["id", "title", "lessons"]) else {
                continue;
            };
            let id = module.required(&mut reader, "id").and_then(|n| reader.slug(n, "module id"));
            if let Some(id) = &id
                && !module_ids.insert(id.clone())
            {
                reader.err(module_node.line(), format!("module id {id:?} is used twice"));
            }
            let title =
                module.required(&mut reader, "title").map(|n| reader.texts(n, "title")).unwrap_or_default();
            let mut lessons = Vec::new();
            let mut lesson_ids = BTreeSet::new();
            if let Some(items) =
                module.required(&mut reader, "lessons").and_then(|n| reader.list(n, "lessons"))
            {
                if items.is_empty() {
                    reader.err(module_node.line(), "a module has at least one lesson");
                }
                for lesson_node in items {
                    let Some(lesson) = reader.fields(lesson_node, "a lesson", &["id", "title"]) else {
                        continue;
                    };
                    let lesson_id =
                        lesson.required(&mut reader, "id").and_then(|n| reader.slug(n, "lesson id"));
                    let title = lesson
                        .required(&mut reader, "title")
                        .map(|n| reader.texts(n, "title"))
                        .unwrap_or_default();
                    if let Some(lesson_id) = lesson_id {
                        if lesson_ids.insert(lesson_id.clone()) {
                            lessons.push(LessonHead { id: lesson_id, title, line: lesson_node.line() });
                        } else {
                            reader.err(
                                lesson_node.line(),
                                format!("lesson id {lesson_id:?} is used twice in the module"),
                            );
                        }
                    }
                }
            }
            if let Some(id) = id {
                head.modules.push(ModuleHead { id, title, lessons });
            }
        }
    }
    head
}

/// Reads nodes of one file, collecting every problem.
struct Reader<'a> {
    file: &'a str,
    errors: &'a mut Vec<PackageError>,
    languages: &'a [Language],
}

/// The entries of a mapping.
struct Fields<'n> {
    entries: &'n [(String, u32, Node)],
    line: u32,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(name, _, _)| name == key)
            .map(|(_, _, node)| node)
            .filter(|node| !node.is_null())
    }

    fn required(&self, reader: &mut Reader<'_>, key: &str) -> Option<&'n Node> {
        let node = self.get(key);
        if node.is_none() {
            reader.err(self.line, format!("missing `{key}`"));
        }
        node
    }
}

impl Reader<'_> {
    fn err(&mut self, line: u32, message: impl Into<String>) {
        self.errors.push(PackageError::new(self.file, Some(line), message));
    }

    /// A mapping; keys outside `allowed` are errors (unless `allowed` is empty).
    fn fields<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<Fields<'n>> {
        let Node::Map { entries, line } = node else {
            self.err(node.line(), format!("{what} must be a mapping of keys to values"));
            return None;
        };
        if !allowed.is_empty() {
            for (key, key_line, _) in entries {
                if !allowed.contains(&key.as_str()) {
                    self.err(
                        *key_line,
                        format!("unknown key `{key}` (expected one of {})", allowed.join(", ")),
                    );
                }
            }
        }
        Some(Fields { entries, line: *line })
    }

    fn list<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match node {
            Node::Seq { items, .. } => Some(items),
            other => {
                self.err(other.line(), format!("`{what}` must be a list"));
                None
            }
        }
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match node {
            Node::Scalar { text, line, .. } => {
                if let Err(error) = neretva_model::check_text(what, text.trim_end(), MAX_TEXT_CHARS) {
                    self.err(*line, error.to_string());
                    return None;
                }
                Some(text.trim_end().to_owned())
            }
            other => {
                self.err(other.line(), format!("{what} must be text"));
                None
            }
        }
    }

    fn slug(&mut self, node: &Node, what: &str) -> Option<String> {
        let text = self.text(node, what)?;
        let valid = text.len() <= 64
            && text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Some(text)
        } else {
            self.err(
                node.line(),
                format!("{what} {text:?} must be lower-case letters, digits and '-' (at most 64)"),
            );
            None
        }
    }

    fn number(&mut self, node: &Node, what: &str, min: u32, max: u32) -> Option<u32> {
        let parsed = match node {
            Node::Scalar { text, plain: true, .. } => text.parse::<u32>().ok(),
            _ => None,
        };
        match parsed {
            Some(value) if (min..=max).contains(&value) => Some(value),
            _ => {
                self.err(node.line(), format!("`{what}` must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node {
            Node::Scalar { text, plain: true, .. } if text == "true" => Some(true),
            Node::Scalar { text, plain: true, .. } if text == "false" => Some(false),
            other => {
                self.err(other.line(), format!("`{what}` must be true or false"));
                None
            }
        }
    }

    /// The key of a language map, if it names one of the course's languages.
    fn language_key(&mut self, key: &str, line: u32) -> Option<Language> {
        match key.parse::<Language>() {
            Ok(language) if self.languages.is_empty() || self.languages.contains(&language) => Some(language),
            Ok(language) => {
                self.err(line, format!("language {language} is not one of the course's languages"));
                None
            }
            Err(error) => {
                self.err(line, error.message);
                None
            }
        }
    }

    /// A text per language: every language of the course, no other.
    fn texts(&mut self, node: &Node, what: &str) -> Texts {
        let mut texts = Texts::new();
        let Some(fields) = self.fields(node, &format!("`{what}`"), &[]) else { return texts };
        for (key, key_line, value) in fields.entries {
            let Some(language) = self.language_key(key, *key_line) else { continue };
            if let Some(text) = self.text(value, &format!("{what}.{key}")) {
                texts.insert(language, text);
            }
        }
        self.require_languages(fields.line, what, |language| texts.contains_key(&language));
        texts
    }

    fn require_languages(&mut self, line: u32, what: &str, has: impl Fn(Language) -> bool) {
        let missing: Vec<String> =
            self.languages.iter().filter(|language| !has(**language)).map(Language::to_string).collect();
        if !missing.is_empty() {
            self.err(line, format!("`{what}` has no text in {}", missing.join(", ")));
        }
    }

    fn quiz(&mut self, node: &Node) -> Option<Quiz> {
        let fields =
            self.fields(node, "the quiz", &["pass_mark", "max_attempts", "time_limit_minutes", "pools"])?;
        let pass_mark = fields.required(self, "pass_mark").and_then(|n| self.number(n, "pass_mark", 1, 100));
        let max_attempts =
            fields.required(self, "max_attempts").and_then(|n| self.number(n, "max_attempts", 1, 100));
        let time_limit = fields
            .required(self, "time_limit_minutes")
            .and_then(|n| self.number(n, "time_limit_minutes", 1, 24 * 60));
        let mut pools = Vec::new();
        let mut pool_ids = BTreeSet::new();
        let mut question_ids = BTreeSet::new();
        let pool_nodes = fields.required(self, "pools").and_then(|n| self.list(n, "pools"));
        let complete = pool_nodes.is_some();
        for pool_node in pool_nodes.unwrap_or_default() {
            let Some(pool) = self.fields(pool_node, "a pool", &["id", "draw", "questions"]) else { continue };
            let id = pool.required(self, "id").and_then(|n| self.slug(n, "pool id"));
            if let Some(id) = &id
                && !pool_ids.insert(id.clone())
            {
                self.err(pool_node.line(), format!("pool id {id:?} is used twice"));
            }
            let draw_node = pool.required(self, "draw");
            let draw = draw_node.and_then(|n| self.number(n, "draw", 1, 1_000));
            let mut questions = Vec::new();
            for question_node in
                pool.required(self, "questions").and_then(|n| self.list(n, "questions")).unwrap_or_default()
            {
                if let Some(question) = self.question(question_node) {
                    if question_ids.insert(question.id.clone()) {
                        questions.push(question);
                    } else {
                        self.err(
                            question_node.line(),
                            format!("question id {:?} is used twice", question.id),
                        );
                    }
                }
            }
            if let (Some(draw), Some(draw_node)) = (draw, draw_node)
                && draw as usize > questions.len()
            {
                self.err(
                    draw_node.line(),
                    format!("draws {draw} questions from a pool of {}", questions.len()),
                );
            }
            if let (Some(id), Some(draw)) = (id, draw) {
                pools.push(Pool { id, draw, questions });
            }
        }
        if complete && pools.is_empty() {
            self.err(fields.line, "a quiz has at least one pool");
        }
        Some(Quiz {
            pass_mark: u8::try_from(pass_mark?).ok()?,
            max_attempts: max_attempts?,
            time_limit_minutes: time_limit?,
            pools,
        })
    }

    fn question(&mut self, node: &Node) -> Option<Question> {
        let fields = self.fields(
            node,
            "a question",
            &["id", "type", "text", "explanation", "options", "answer", "accept"],
        )?;
        let id = fields.required(self, "id").and_then(|n| self.slug(n, "question id"));
        let text = fields.required(self, "text").map(|n| self.texts(n, "text"));
        let explanation = fields.get("explanation").map(|n| self.texts(n, "explanation")).unwrap_or_default();
        let kind_node = fields.required(self, "type")?;
        let kind_name = self.text(kind_node, "type")?;
        let allowed: &[&str] = match kind_name.as_str() {
            "single" | "multiple" => &["options"],
            "true_false" => &["answer"],
            "short_answer" => &["accept"],
            other => {
                self.err(
                    kind_node.line(),
                    format!("unknown question type {other:?} (single, multiple, true_false or short_answer)"),
                );
                return None;
            }
        };
        for key in ["options", "answer", "accept"] {
            if !allowed.contains(&key)
                && let Some(value) = fields.get(key)
            {
                self.err(value.line(), format!("`{key}` does not belong to a {kind_name} question"));
            }
        }
        let kind = match kind_name.as_str() {
            "single" | "multiple" => {
                let options = self.options(&fields, &kind_name)?;
                if kind_name == "single" {
                    QuestionKind::Single { options }
                } else {
                    QuestionKind::Multiple { options }
                }
            }
            "true_false" => QuestionKind::TrueFalse {
                answer: fields.required(self, "answer").and_then(|n| self.boolean(n, "answer"))?,
            },
            _ => QuestionKind::ShortAnswer { accept: self.accept(&fields)? },
        };
        Some(Question { id: id?, text: text?, explanation, kind })
    }

    fn options(&mut self, fields: &Fields<'_>, kind: &str) -> Option<Vec<Choice>> {
        let list_node = fields.required(self, "options")?;
        let list = self.list(list_node, "options")?;
        let mut options = Vec::new();
        let mut ids = BTreeSet::new();
        let mut failed = false;
        for item in list {
            let Some(option) = self.fields(item, "an option", &["id", "text", "correct", "feedback"]) else {
                failed = true;
                continue;
            };
            let id = option.required(self, "id").and_then(|n| self.slug(n, "option id"));
            let text = option.required(self, "text").map(|n| self.texts(n, "text"));
            let correct = match option.get("correct") {
                Some(node) => self.boolean(node, "correct"),
                None => Some(false),
            };
            let feedback = option.get("feedback").map(|n| self.texts(n, "feedback")).unwrap_or_default();
            match (id, text, correct) {
                (Some(id), Some(text), Some(correct)) => {
                    if !ids.insert(id.clone()) {
                        self.err(item.line(), format!("option id {id:?} is used twice"));
                    }
                    options.push(Choice { id, text, correct, feedback });
                }
                _ => failed = true,
            }
        }
        if failed {
            return None;
        }
        let right = options.iter().filter(|option| option.correct).count();
        if options.len() < 2 {
            self.err(list_node.line(), "a choice question has at least two options");
        } else if kind == "single" && right != 1 {
            self.err(
                list_node.line(),
                format!("a single-choice question has one correct option, not {right}"),
            );
        } else if kind == "multiple" && right == 0 {
            self.err(list_node.line(), "a multiple-choice question has at least one correct option");
        }
        Some(options)
    }

    fn accept(&mut self, fields: &Fields<'_>) -> Option<BTreeMap<Language, Vec<String>>> {
        let node = fields.required(self, "accept")?;
        let map = self.fields(node, "`accept`", &[])?;
        let mut accept = BTreeMap::new();
        for (key, key_line, value) in map.entries {
            let Some(language) = self.language_key(key, *key_line) else { continue };
            let answers: Vec<String> = match value {
                Node::Seq { items, .. } => {
                    items.iter().filter_map(|item| self.text(item, "an answer")).collect()
                }
                other => self.text(other, "an answer").into_iter().collect(),
            };
            if answers.is_empty() {
                self.err(value.line(), format!("no accepted answer in {language}"));
            } else {
                accept.insert(language, answers);
            }
        }
        self.require_languages(map.line, "accept", |language| accept.contains_key(&language));
        Some(accept)
    }
}
