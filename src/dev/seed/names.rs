//! Made-up but plausible service, vendor and domain names for synthetic
//! registries, from a seeded generator, with real names mixed in.

/// splitmix64: small, fast and the same everywhere. It also counts the ids
/// it has made (see `synthetic_id`).
pub struct Rng {
    pub(super) state: u64,
    pub(super) ids: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed ^ 0x5DEE_CE66_D1CE_4E5B, ids: 0 }
    }
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Tool names that look like the real thing, for realistic lookups.
pub const KNOWN_NAMES: &[&str] = &[
    "ChatGPT",
    "Copilot",
    "Gemini",
    "Claude",
    "Perplexity",
    "Mistral Le Chat",
    "DeepL",
    "Grammarly",
    "Otter",
    "Whisper",
    "Midjourney",
    "DALL-E",
    "Firefly",
    "Canva Magic",
    "Notion AI",
    "Jasper",
    "Writesonic",
    "Fireflies",
    "Tactiq",
    "Speechmatics",
    "Trint",
    "Descript",
    "Runway",
    "Synthesia",
    "ElevenLabs",
    "Murf",
    "Lovo",
    "Copy.ai",
    "QuillBot",
    "Wordtune",
    "Tabnine",
    "Codeium",
    "Cursor",
    "Replit Ghostwriter",
    "Phind",
    "You.com",
    "Poe",
    "HuggingChat",
    "Pi",
    "Character AI",
    "Bard",
    "Bing Chat",
    "Einstein",
    "Watsonx",
    "Lex",
    "Dialogflow",
    "Rasa",
    "Botpress",
    "Kore",
    "Ada",
    "Intercom Fin",
    "Zendesk AI",
    "Freshdesk Freddy",
    "Tidio",
    "LivePerson",
    "Sana",
    "Lingio",
    "Vardagsassistenten",
    "Klarspråkshjälpen",
    "Protokollskrivaren",
    "Diarieassistenten",
    "Ärendesortering",
    "Bygglovsguiden",
    "Skolplaneraren",
    "Omsorgsstöd",
    "Översättningstjänsten",
    "Tal till text",
];

pub(super) const ONSETS: &[&str] = &[
    "b", "bl", "br", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "j", "k", "kl", "kr", "l", "m", "n", "p", "pl",
    "pr", "r", "s", "sk", "sl", "sm", "sn", "sp", "st", "str", "sv", "t", "tr", "v", "vr", "z", "ch", "sh", "th",
];

pub(super) const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "y", "å", "ä", "ö", "ai", "ei", "ou"];

pub(super) const CODAS: &[&str] = &[
    "", "n", "r", "s", "l", "x", "k", "t", "m", "nd", "rk", "st", "ng", "lt", "rn", "ks", "ck", "ll", "ss", "tt", "ft",
    "mp", "nt", "rd", "sk", "lk", "rm", "rs", "ps", "ts",
];

pub(super) const PRODUCT_WORDS: &[&str] = &[
    "Assist",
    "AI",
    "Chat",
    "Copilot",
    "GPT",
    "Scribe",
    "Notes",
    "Translate",
    "Voice",
    "Vision",
    "Insight",
    "Guide",
    "Buddy",
    "Helper",
    "Writer",
    "Studio",
    "Pro",
    "Lens",
    "Flow",
    "Desk",
    "Bot",
    "Coach",
    "Tutor",
    "Reader",
    "Planner",
    "Analyst",
    "Search",
    "Sense",
    "Mind",
    "Works",
];

pub(super) const COMPANY_FORMS: &[&str] = &["AB", "Ltd", "GmbH", "Inc", "Oy", "AS", "ApS", "BV", "SAS", "AG"];

pub(super) const TLDS: &[&str] = &["com", "se", "eu", "io", "ai", "net", "app"];

pub(super) fn stem(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..(2 + rng.below(2)) {
        s.push_str(rng.pick::<&str>(ONSETS));
        s.push_str(rng.pick::<&str>(VOWELS));
    }
    s.push_str(rng.pick::<&str>(CODAS));
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => s,
    }
}

pub(super) fn slug(text: &str) -> String {
    crate::lookup::normalize::normalize(text).chars().filter(|c| c.is_ascii_alphanumeric()).take(40).collect()
}

/// A plausible typo: a doubled, dropped or swapped letter.
pub(super) fn typo(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() < 4 {
        return text.to_string();
    }
    let i = 1 + rng.below(chars.len() - 2);
    match rng.below(3) {
        0 => chars.insert(i, chars[i]),
        1 => {
            chars.remove(i);
        }
        _ => chars.swap(i, i + 1),
    }
    chars.into_iter().collect()
}

pub(super) struct Names {
    pub(super) name: String,
    pub(super) aliases: Vec<String>,
    pub(super) vendor: String,
    pub(super) domains: Vec<String>,
}

pub(super) fn names(rng: &mut Rng, i: usize, vendors: &[String]) -> Names {
    let vendor = rng.pick(vendors).clone();
    let base = if rng.chance(3) { (*rng.pick(KNOWN_NAMES)).to_string() } else { stem(rng) };
    let name = if rng.chance(60) { format!("{base} {}", rng.pick(PRODUCT_WORDS)) } else { base.clone() };
    // Keep names unique enough to be found: a suffix on repeats.
    let name = if i % 7 == 0 { format!("{name} {}", 1 + i / 7 % 97) } else { name };
    let mut aliases = Vec::new();
    for _ in 0..rng.below(4) {
        let alias = match rng.below(4) {
            0 => name.replace(' ', ""),
            1 => name.replace(' ', "-"),
            2 => typo(rng, &name),
            _ => format!("{} {}", vendor.split(' ').next().unwrap_or_default(), base),
        };
        if alias != name && !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }
    let vendor_slug = slug(&vendor);
    let domains = if rng.chance(85) {
        vec![format!("{}{}.{vendor_slug}.{}", slug(&name), i % 1000, rng.pick(TLDS))]
    } else {
        Vec::new()
    };
    Names { name, aliases, vendor, domains }
}
