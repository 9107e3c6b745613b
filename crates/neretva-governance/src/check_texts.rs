//! The texts of communication checks in English, Bosnian, Croatian and Serbian (Latin and
//! Cyrillic): the challenge and reminder e-mails, the escalation e-mail and the acknowledgment
//! page. Serbian Cyrillic is the transliteration of Serbian Latin ([`to_cyrillic`]); names,
//! links and the campaign's name are put in after transliteration, as they are.

use neretva_model::contact::Language;

use crate::contact_points::PointKind;

/// What the challenge e-mail tells.
#[derive(Debug, Clone, Copy)]
pub struct ChallengeInput<'a> {
    pub cert: &'a str,
    pub campaign: &'a str,
    /// The contact point's name.
    pub name: &'a str,
    pub org: &'a str,
    pub kind: PointKind,
    pub link: &'a str,
    /// The deadline, already written (UTC).
    pub deadline: &'a str,
    /// A reminder rather than the first challenge.
    pub reminder: bool,
}

struct Phrases {
    subject: &'static str,
    reminder_prefix: &'static str,
    greeting: &'static str,
    reminder_line: &'static str,
    body: &'static str,
    kinds: [&'static str; 5],
    escalation_subject: &'static str,
    escalation_body: &'static str,
    page: [&'static str; 7],
}

const EN: Phrases = Phrases {
    subject: "Communication check \"{campaign}\" from {cert}",
    reminder_prefix: "Reminder: ",
    greeting: "Dear {name},",
    reminder_line: "We have not yet received your confirmation.",
    body: "{cert} is checking that its contact points can be reached. You are listed as the {kind} of {org}.\n\nPlease confirm that you received this message by opening the link below and pressing the confirmation button, by {deadline} (UTC):\n\n{link}\n\nThe link works once. You do not need to answer this e-mail or change anything else.",
    kinds: [
        "OSCE CBM 8 policy contact point",
        "OSCE CBM 8 technical contact point",
        "Budapest Convention 24/7 contact point",
        "sector contact point",
        "CERT contact",
    ],
    escalation_subject: "Communication check \"{campaign}\": contact points without an answer",
    escalation_body: "The following contact points have not confirmed the communication check \"{campaign}\" sent by {cert}; the deadline is {deadline} (UTC):\n\n{list}\n\nPlease reach them by other means.",
    page: [
        "Communication check",
        "Please confirm that {name} ({org}) received the communication check \"{campaign}\" from {cert}.",
        "Confirm receipt",
        "Thank you. Your confirmation was recorded.",
        "This link was already used; a link works once.",
        "This link expired on {expires} (UTC); the check is closed.",
        "This link is not valid.",
    ],
};

const BS: Phrases = Phrases {
    subject: "Provjera komunikacije „{campaign}“ – {cert}",
    reminder_prefix: "Podsjetnik: ",
    greeting: "Poštovani/a {name},",
    reminder_line: "Vašu potvrdu još nismo primili.",
    body: "{cert} provjerava da li su njegove kontaktne tačke dostupne. Navedeni ste kao {kind} organizacije {org}.\n\nMolimo vas da potvrdite prijem ove poruke tako što ćete otvoriti link ispod i pritisnuti dugme za potvrdu, najkasnije do {deadline} (UTC):\n\n{link}\n\nLink se može iskoristiti samo jednom. Na ovu poruku ne trebate odgovarati niti išta drugo mijenjati.",
    kinds: [
        "kontaktna tačka za politička pitanja (OSCE CBM 8)",
        "tehnička kontaktna tačka (OSCE CBM 8)",
        "kontaktna tačka 24/7 (Budimpeštanska konvencija)",
        "sektorska kontaktna tačka",
        "kontakt CERT-a",
    ],
    escalation_subject: "Provjera komunikacije „{campaign}“: kontaktne tačke bez odgovora",
    escalation_body: "Sljedeće kontaktne tačke nisu potvrdile provjeru komunikacije „{campaign}“ koju je poslao {cert}; rok je {deadline} (UTC):\n\n{list}\n\nMolimo da ih kontaktirate drugim putem.",
    page: [
        "Provjera komunikacije",
        "Molimo potvrdite da je {name} ({org}) primio/la provjeru komunikacije „{campaign}“ od {cert}.",
        "Potvrdi prijem",
        "Hvala. Vaša potvrda je zabilježena.",
        "Ovaj link je već iskorišten; link se može iskoristiti samo jednom.",
        "Ovaj link je istekao {expires} (UTC); provjera je zatvorena.",
        "Ovaj link nije važeći.",
    ],
};

const HR: Phrases = Phrases {
    subject: "Provjera komunikacije „{campaign}” – {cert}",
    reminder_prefix: "Podsjetnik: ",
    greeting: "Poštovani/a {name},",
    reminder_line: "Vašu potvrdu još nismo primili.",
    body: "{cert} provjerava jesu li njegove kontaktne točke dostupne. Navedeni ste kao {kind} organizacije {org}.\n\nMolimo potvrdite primitak ove poruke tako da otvorite poveznicu u nastavku i pritisnete gumb za potvrdu, najkasnije do {deadline} (UTC):\n\n{link}\n\nPoveznica se može upotrijebiti samo jednom. Na ovu poruku ne morate odgovarati niti išta drugo mijenjati.",
    kinds: [
        "kontaktna točka za politička pitanja (OESS CBM 8)",
        "tehnička kontaktna točka (OESS CBM 8)",
        "kontaktna točka 24/7 (Budimpeštanska konvencija)",
        "sektorska kontaktna točka",
        "kontakt CERT-a",
    ],
    escalation_subject: "Provjera komunikacije „{campaign}”: kontaktne točke bez odgovora",
    escalation_body: "Sljedeće kontaktne točke nisu potvrdile provjeru komunikacije „{campaign}” koju je poslao {cert}; rok je {deadline} (UTC):\n\n{list}\n\nMolimo da ih kontaktirate drugim putem.",
    page: [
        "Provjera komunikacije",
        "Molimo potvrdite da je {name} ({org}) primio/la provjeru komunikacije „{campaign}” od {cert}.",
        "Potvrdi primitak",
        "Hvala. Vaša je potvrda zabilježena.",
        "Ova je poveznica već upotrijebljena; poveznica se može upotrijebiti samo jednom.",
        "Ova je poveznica istekla {expires} (UTC); provjera je zatvorena.",
        "Ova poveznica nije valjana.",
    ],
};

const SR_LATN: Phrases = Phrases {
    subject: "Provera komunikacije „{campaign}“ – {cert}",
    reminder_prefix: "Podsetnik: ",
    greeting: "Poštovani/a {name},",
    reminder_line: "Vašu potvrdu još nismo primili.",
    body: "{cert} proverava da li su njegove kontaktne tačke dostupne. Navedeni ste kao {kind} organizacije {org}.\n\nMolimo vas da potvrdite prijem ove poruke tako što ćete otvoriti link ispod i pritisnuti dugme za potvrdu, najkasnije do {deadline} (UTC):\n\n{link}\n\nLink se može iskoristiti samo jednom. Na ovu poruku ne morate da odgovarate niti da bilo šta drugo menjate.",
    kinds: [
        "kontaktna tačka za politička pitanja (OEBS CBM 8)",
        "tehnička kontaktna tačka (OEBS CBM 8)",
        "kontaktna tačka 24/7 (Budimpeštanska konvencija)",
        "sektorska kontaktna tačka",
        "kontakt CERT-a",
    ],
    escalation_subject: "Provera komunikacije „{campaign}“: kontaktne tačke bez odgovora",
    escalation_body: "Sledeće kontaktne tačke nisu potvrdile proveru komunikacije „{campaign}“ koju je poslao {cert}; rok je {deadline} (UTC):\n\n{list}\n\nMolimo da ih kontaktirate drugim putem.",
    page: [
        "Provera komunikacije",
        "Molimo potvrdite da je {name} ({org}) primio/la proveru komunikacije „{campaign}“ od {cert}.",
        "Potvrdi prijem",
        "Hvala. Vaša potvrda je zabeležena.",
        "Ovaj link je već iskorišćen; link se može iskoristiti samo jednom.",
        "Ovaj link je istekao {expires} (UTC); provera je zatvorena.",
        "Ovaj link nije važeći.",
    ],
};

fn phrases(language: Language) -> &'static Phrases {
    match language {
        Language::En => &EN,
        Language::Bs => &BS,
        Language::Hr => &HR,
        Language::SrLatn | Language::SrCyrl => &SR_LATN,
    }
}

/// A phrase in the language: Serbian Cyrillic transliterated from Serbian Latin.
fn phrase(language: Language, text: &str) -> String {
    if language == Language::SrCyrl { to_cyrillic(text) } else { text.to_owned() }
}

fn kind_index(kind: PointKind) -> usize {
    match kind {
        PointKind::Cbm8Policy => 0,
        PointKind::Cbm8Technical => 1,
        PointKind::Budapest24x7 => 2,
        PointKind::Sector => 3,
        PointKind::Cert => 4,
    }
}

/// Fills `{name}` placeholders from `values`, in one pass, so a value is never read as a
/// placeholder itself.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').map(|end| (&after[..end], end)) {
            Some((key, end)) if values.iter().any(|(name, _)| *name == key) => {
                let value = values.iter().find(|(name, _)| *name == key).map_or("", |(_, value)| value);
                out.push_str(value);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The subject and body (LF line endings) of a challenge or a reminder.
pub fn challenge(language: Language, input: &ChallengeInput<'_>) -> (String, String) {
    let texts = phrases(language);
    let kind = phrase(language, texts.kinds[kind_index(input.kind)]);
    let values = [
        ("cert", input.cert),
        ("campaign", input.campaign),
        ("name", input.name),
        ("org", input.org),
        ("kind", kind.as_str()),
        ("link", input.link),
        ("deadline", input.deadline),
    ];
    let mut subject = fill(&phrase(language, texts.subject), &values);
    if input.reminder {
        subject = format!("{}{subject}", phrase(language, texts.reminder_prefix));
    }
    let mut body = fill(&phrase(language, texts.greeting), &values);
    body.push_str("\n\n");
    if input.reminder {
        body.push_str(&phrase(language, texts.reminder_line));
        body.push(' ');
    }
    body.push_str(&fill(&phrase(language, texts.body), &values));
    body.push_str(&format!("\n\n-- \n{}\n", input.cert));
    (subject.replace(['\r', '\n'], " "), body)
}

/// The subject and body of an escalation listing the silent points (one line each).
pub fn escalation(
    language: Language,
    cert: &str,
    campaign: &str,
    deadline: &str,
    silent: &[String],
) -> (String, String) {
    let texts = phrases(language);
    let list: String = silent.iter().map(|line| format!("- {line}")).collect::<Vec<_>>().join("\n");
    let values = [("cert", cert), ("campaign", campaign), ("deadline", deadline), ("list", list.as_str())];
    let subject = fill(&phrase(language, texts.escalation_subject), &values);
    let mut body = fill(&phrase(language, texts.escalation_body), &values);
    body.push_str(&format!("\n\n-- \n{cert}\n"));
    (subject.replace(['\r', '\n'], " "), body)
}

/// The texts of the acknowledgment page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageTexts {
    pub title: String,
    /// Asks to confirm (with `{name}`, `{org}`, `{campaign}`, `{cert}` filled).
    pub intro: String,
    pub button: String,
    pub done: String,
    pub used: String,
    /// With `{expires}` filled.
    pub expired: String,
    pub unknown: String,
}

/// What the acknowledgment page names.
#[derive(Debug, Clone, Copy)]
pub struct PageInput<'a> {
    pub cert: &'a str,
    pub campaign: &'a str,
    pub name: &'a str,
    pub org: &'a str,
    pub expires: &'a str,
}

/// The acknowledgment page's texts in a language.
pub fn page(language: Language, input: &PageInput<'_>) -> PageTexts {
    let texts = phrases(language);
    let values = [
        ("cert", input.cert),
        ("campaign", input.campaign),
        ("name", input.name),
        ("org", input.org),
        ("expires", input.expires),
    ];
    let text = |index: usize| fill(&phrase(language, texts.page[index]), &values);
    PageTexts {
        title: text(0),
        intro: text(1),
        button: text(2),
        done: text(3),
        used: text(4),
        expired: text(5),
        unknown: text(6),
    }
}

/// Serbian Latin to Serbian Cyrillic, letter by letter (with the digraphs `lj`, `nj`, `dž`);
/// words of two or more capitals (acronyms such as `CERT`, `UTC`) and placeholders in braces
/// stay as they are.
pub fn to_cyrillic(latin: &str) -> String {
    let chars: Vec<char> = latin.chars().collect();
    let mut out = String::with_capacity(latin.len() * 2);
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c == '{' {
            while index < chars.len() && chars[index] != '}' {
                out.push(chars[index]);
                index += 1;
            }
            if index < chars.len() {
                out.push('}');
                index += 1;
            }
            continue;
        }
        if c.is_ascii_uppercase() {
            let end = chars[index..]
                .iter()
                .position(|c| !c.is_ascii_uppercase())
                .map_or(chars.len(), |n| index + n);
            if end - index >= 2 {
                out.extend(&chars[index..end]);
                index = end;
                continue;
            }
        }
        let next = chars.get(index + 1).copied().unwrap_or(' ');
        let digraph = match (c, next) {
            ('l', 'j') => Some('љ'),
            ('L', 'j' | 'J') => Some('Љ'),
            ('n', 'j') => Some('њ'),
            ('N', 'j' | 'J') => Some('Њ'),
            ('d', 'ž') => Some('џ'),
            ('D', 'ž' | 'Ž') => Some('Џ'),
            _ => None,
        };
        if let Some(letter) = digraph {
            out.push(letter);
            index += 2;
            continue;
        }
        out.push(match c {
            'a' => 'а',
            'b' => 'б',
            'c' => 'ц',
            'č' => 'ч',
            'ć' => 'ћ',
            'd' => 'д',
            'đ' => 'ђ',
            'e' => 'е',
            'f' => 'ф',
            'g' => 'г',
            'h' => 'х',
            'i' => 'и',
            'j' => 'ј',
            'k' => 'к',
            'l' => 'л',
            'm' => 'м',
            'n' => 'н',
            'o' => 'о',
            'p' => 'п',
            'r' => 'р',
            's' => 'с',
            'š' => 'ш',
            't' => 'т',
            'u' => 'у',
            'v' => 'в',
            'z' => 'з',
            'ž' => 'ж',
            'A' => 'А',
            'B' => 'Б',
            'C' => 'Ц',
            'Č' => 'Ч',
            'Ć' => 'Ћ',
            'D' => 'Д',
            'Đ' => 'Ђ',
            'E' => 'Е',
            'F' => 'Ф',
            'G' => 'Г',
            'H' => 'Х',
            'I' => 'И',
            'J' => 'Ј',
            'K' => 'К',
            'L' => 'Л',
            'M' => 'М',
            'N' => 'Н',
            'O' => 'О',
            'P' => 'П',
            'R' => 'Р',
            'S' => 'С',
            'Š' => 'Ш',
            'T' => 'Т',
            'U' => 'У',
            'V' => 'В',
            'Z' => 'З',
            'Ž' => 'Ж',
            other => other,
        });
        index += 1;
    }
    out
}
