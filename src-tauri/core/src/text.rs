//! Text from outside (servers, files, other people) on its way to a person:
//! a terminal, a notification, an error message.

/// Characters that must not reach a terminal as they are: control
/// characters (escape sequences start with one) and bidirectional overrides,
/// which can hide or reorder text.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text written by other people, made safe for a terminal: control and
/// bidirectional-override characters could rewrite the screen or hide text,
/// so each becomes a space; long text is cut.
pub fn clean_text(raw: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max_chars.saturating_mul(4)));
    let mut count = 0;
    let mut last_space = false;
    for c in raw.chars() {
        let c = if is_unsafe(c) { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        if count == max_chars {
            out.push_str("...");
            return out;
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    out.trim().to_string()
}
