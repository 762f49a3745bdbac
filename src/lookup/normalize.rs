//! Forgiving text: what a query and a name have in common once case,
//! diacritics, spaces, hyphens and punctuation are set aside.

/// Lowercase, diacritics folded to their base letter, and everything that
/// is not a letter or digit removed: "Chat-GPT", "chat gpt" and "ChatGPT"
/// all become "chatgpt"; "Ödeshög" becomes "odeshog".
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            }
            continue;
        }
        for lower in c.to_lowercase() {
            fold(lower, &mut out);
        }
    }
    out
}

/// A letter without its diacritics: its canonical decomposition (Unicode
/// NFD) without the combining marks, so "å" is "a" and "ț" is "t". The
/// letters that do not decompose are written out as Swedes read them.
fn fold(c: char, out: &mut String) {
    let spelled = match c {
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ß' => "ss",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        _ => {
            unicode_normalization::char::decompose_canonical(c, |part| {
                if !unicode_normalization::char::is_combining_mark(part) && part.is_alphanumeric() {
                    out.push(part);
                }
            });
            return;
        }
    };
    out.push_str(spelled);
}

/// The keys a name is found by: the whole name, and (for names of several
/// words) the rest of the name from each later word on, so that "copilot"
/// finds "Microsoft 365 Copilot Chat".
pub fn name_keys(text: &str) -> (String, Vec<String>) {
    let full = normalize(text);
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).map(normalize).filter(|w| !w.is_empty()).collect();
    let mut tails = Vec::new();
    for start in 1..words.len() {
        let tail: String = words[start..].concat();
        if tail.chars().count() >= 3 && tail != full {
            tails.push(tail);
        }
    }
    (full, tails)
}

/// The host name in a pasted URL or domain ("https://chat.example.com/c/123"
/// gives "chat.example.com"), lowercase, without "www.", port or user info.
pub fn host_of(query: &str) -> Option<String> {
    let q = query.trim();
    if q.contains(char::is_whitespace) {
        return None;
    }
    let rest = match q.split_once("://") {
        Some((_, rest)) => rest,
        None if q.contains('.') => q,
        None => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default().trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let valid = host.contains('.')
        && host.len() <= 253
        && host
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    valid.then_some(host)
}

/// The host and every parent domain with at least two labels:
/// "a.chat.example.com" → ["a.chat.example.com", "chat.example.com", "example.com"].
pub fn host_and_parents(host: &str) -> Vec<&str> {
    let mut out = vec![host];
    let mut rest = host;
    while let Some((_, parent)) = rest.split_once('.') {
        if !parent.contains('.') {
            break;
        }
        out.push(parent);
        rest = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_meet() {
        for q in ["chat gpt", "ChatGPT", "chat-gpt", "Chat_GPT!", " CHAT.GPT "] {
            assert_eq!(normalize(q), "chatgpt", "{q}");
        }
        assert_eq!(normalize("Ödeshög"), "odeshog");
        assert_eq!(normalize("Åtvidaberg"), "atvidaberg");
        assert_eq!(normalize("Straße Œuvre Ærø"), "strasseoeuvreaero");
        assert_eq!(normalize("---"), "");
    }

    #[test]
    fn the_letters_of_european_names_fold_to_their_base() {
        let cases = [
            ("àáâãäåāăą", "aaaaaaaaa"),
            ("çćč ďđ èéêëēėęě", "cccddeeeeeeee"),
            ("ìíîïīį łľ ñńň", "iiiiiillnnn"),
            ("òóôõöøōő ř ß śšş ť", "oooooooorssssst"),
            ("ùúûüūůű ýÿ źżž þð", "uuuuuuuyyzzzthd"),
            ("ȚĂRÂNCUȚA Ș", "tarancutas"),
            ("İstanbul", "istanbul"),
        ];
        for (text, folded) in cases {
            assert_eq!(normalize(text), folded, "{text}");
        }
    }

    #[test]
    fn names_are_found_by_their_later_words() {
        let (full, tails) = name_keys("Microsoft 365 Copilot Chat");
        assert_eq!(full, "microsoft365copilotchat");
        assert_eq!(tails, vec!["365copilotchat", "copilotchat", "chat"]);
        assert!(name_keys("ChatGPT").1.is_empty());
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(host_of("https://chat.example.com/c/123").as_deref(), Some("chat.example.com"));
        assert_eq!(host_of("HTTP://www.Example.COM:8080/x?y#z").as_deref(), Some("example.com"));
        assert_eq!(host_of("user@copilot.microsoft.com").as_deref(), Some("copilot.microsoft.com"));
        assert_eq!(host_of("copilot.microsoft.com").as_deref(), Some("copilot.microsoft.com"));
        assert_eq!(host_of("chat gpt"), None);
        assert_eq!(host_of("copilot"), None);
        assert_eq!(host_of("https://"), None);
        assert_eq!(
            host_and_parents("a.chat.example.com"),
            vec!["a.chat.example.com", "chat.example.com", "example.com"]
        );
    }
}
