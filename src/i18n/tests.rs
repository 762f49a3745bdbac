use super::*;

#[test]
fn the_catalogue_parses_and_both_languages_have_the_same_messages() {
    let catalogue = catalogue();
    assert_eq!(catalogue.check(), Ok(()));
    assert!(catalogue.ids().count() > 1_000, "pages, form, codes, errors and commands");
    for id in catalogue.ids() {
        for lang in [Lang::Sv, Lang::En] {
            assert!(catalogue.strings(lang).get(id).is_some(), "{id} has no text in {}", lang.as_str());
        }
    }
}

#[test]
fn a_message_in_one_language_only_is_a_problem() {
    let sv = [("sv/a.ftl".to_string(), "hello = Hej\nbye = Hej då\n")];
    let en = [("en/a.ftl".to_string(), "hello = Hello\n")];
    let problems = Catalogue::from_files(&sv, &en).check().unwrap_err();
    assert!(problems.contains("bye is only in templates/i18n/sv"), "{problems}");
}

#[test]
fn a_repeated_id_and_bad_syntax_are_problems() {
    let sv = [("sv/a.ftl".to_string(), "hello = Hej\n"), ("sv/b.ftl".to_string(), "hello = Hejsan\n")];
    let en = [("en/a.ftl".to_string(), "hello = Hello\n{ broken\n")];
    let problems = Catalogue::from_files(&sv, &en).check().unwrap_err();
    assert!(problems.contains("sv/b.ftl repeats the message hello"), "{problems}");
    assert!(problems.contains("en/a.ftl"), "{problems}");
}

#[test]
fn words_follow_the_number_and_carry_no_direction_marks() {
    let c = catalogue();
    assert_eq!(c.format(Lang::Sv, "report_rows", &[("rows", 1.into())]), "1 rad");
    assert_eq!(c.format(Lang::Sv, "report_rows", &[("rows", 2.into())]), "2 rader");
    assert_eq!(c.format(Lang::En, "report_rows", &[("rows", 1.into())]), "1 row");
    assert_eq!(c.format(Lang::En, "report_rows", &[("rows", 12.into())]), "12 rows");
    let intro = c.format(Lang::Sv, "register_intro", &[("org", "Kinda kommun".into())]);
    assert!(intro.contains("i Kinda kommun."), "{intro}");
    assert!(!intro.contains('\u{2068}') && !intro.contains('\u{2069}'));
}

#[test]
fn an_unknown_id_reads_as_itself() {
    assert_eq!(catalogue().text(Lang::Sv, "no-such-message"), "no-such-message");
}

#[test]
fn every_word_a_template_uses_is_in_the_catalogue() {
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&templates).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "hbs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // `t.id` and `@root.t.id`, not `t.t.id` or `draft.id`.
        for (at, _) in text.match_indices("t.") {
            let before = text[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') && !text[..at].ends_with("root.") {
                continue;
            }
            let id: String =
                text[at + 2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            if !id.is_empty() && catalogue().strings(Lang::Sv).get(&id).is_none() {
                missing.push(format!("{}: {id}", path.display()));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn every_message_the_code_names_is_in_the_catalogue() {
    fn visit(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for literal in text.split('"').skip(1).step_by(2) {
                    let prefixes = ["error-", "why-", "serde-", "schema-", "answer-", "condition-", "cli-", "list-"];
                    let is_id = prefixes.iter().any(|p| literal.starts_with(p))
                        && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-');
                    if is_id {
                        found.push((path.display().to_string(), literal.to_string()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    assert!(found.len() > 100, "the code names its messages: {}", found.len());
    let missing: Vec<_> =
        found.iter().filter(|(_, id)| catalogue().strings(Lang::Sv).get(id.as_str()).is_none()).collect();
    assert!(missing.is_empty(), "{missing:?}");
}
