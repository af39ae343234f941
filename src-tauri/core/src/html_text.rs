//! HTML written by people (a status message typed in Teams) as the plain
//! text they meant, for every front end to show the same words.
//!
//! The HTML is parsed by a real parser (`html2text`, on html5ever, the HTML5
//! parsing algorithm browsers use): no markup survives, whatever its shape,
//! and entities are decoded exactly once. Nothing is ever rendered as HTML.
//!
//! What Teams sends: the Teams clients store a status message typed in the
//! client as `contentType: html`, ordinary text inside `<p>` or `<div>`
//! blocks, line breaks as `<br>` or new blocks, `&amp;`-style entities. The
//! Teams chat client writes an emoji picked from its panel as an `<img>` of a
//! sprite on Microsoft's CDN with the emoji itself in `alt`
//! (`<img src=".../wave/default/30_f.png" alt="👋">`); that this is what a
//! status message carries too is our reading of the chat format, not
//! something Microsoft documents. Either way the `alt` text is what a person
//! meant, and it is what is kept; an image without `alt` leaves nothing.

/// HTML longer than this is cut before it is parsed. Teams caps a status
/// message at 280 characters; this leaves room for markup around them while
/// keeping a hostile answer from costing the engine real time each poll.
pub const MAX_HTML_BYTES: usize = 32 * 1024;

/// The text is cut to this many characters, line breaks included (then
/// "..." follows).
pub const MAX_TEXT_CHARS: usize = 2_000;

/// Lines are never wrapped for a width: the front ends wrap as they need.
const NO_WRAP: usize = 100_000;

/// The plain text of `html`: markup gone, entities decoded, one line per
/// `<br>`, paragraph or block, at most one empty line in a row, no control
/// or direction-override characters, and no longer than [`MAX_TEXT_CHARS`].
pub fn html_to_text(html: &str) -> String {
    let html = cut_at_char(html, MAX_HTML_BYTES);
    // The trivial decorator adds nothing: no `[...]` around links or
    // images, no `*` for emphasis, no footnotes with addresses.
    let decorator = html2text::render::TrivialDecorator::new();
    let rendered = html2text::config::with_decorator(decorator)
        .no_table_borders()
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), NO_WRAP)
        // The renderer fails only on a width too small for its content,
        // which NO_WRAP with overflow allowed rules out. Should it fail
        // anyway, no text beats showing markup.
        .unwrap_or_default();
    tidy(&rendered)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary. A tag cut in half is harmless: the parser drops it.
fn cut_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Lines without trailing spaces, runs of empty lines as one, unsafe
/// characters (escape sequences, direction overrides) dropped, then cut.
fn tidy(rendered: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut blank_run = 0;
    for line in rendered.lines() {
        let line: String = line
            .chars()
            .map(|c| if crate::text::is_unsafe(c) { ' ' } else { c })
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            let gap = if blank_run > 0 { "\n\n" } else { "\n" };
            out.push_str(gap);
            chars += gap.len();
        }
        blank_run = 0;
        for c in line.chars() {
            if chars >= MAX_TEXT_CHARS {
                out.push_str("...");
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks_become_lines() {
        assert_eq!(
            html_to_text("<p>Working from home</p>"),
            "Working from home"
        );
        assert_eq!(
            html_to_text("<p>In Berlin today<br>back Monday</p>"),
            "In Berlin today\nback Monday"
        );
        assert_eq!(html_to_text("<p>First</p><p>Second</p>"), "First\n\nSecond");
        assert_eq!(html_to_text("<div>one</div><div>two</div>"), "one\ntwo");
    }

    #[test]
    fn entities_are_decoded_once() {
        assert_eq!(html_to_text("R&amp;D offsite"), "R&D offsite");
        assert_eq!(html_to_text("&lt;b&gt; is not bold"), "<b> is not bold");
        assert_eq!(html_to_text("&amp;amp;"), "&amp;");
        assert_eq!(html_to_text("caf&eacute; &#x1F600;"), "café 😀");
    }

    #[test]
    fn emoji_images_become_their_alt_text() {
        let teams = r#"<p>Lunch <img src="https://statics.teams.cdn.office.net/evergreen-assets/personal-expressions/v2/assets/emoticons/pizza/default/20_f.png" alt="🍕" title="Pizza" itemscope="" itemtype="http://schema.skype.com/Emoji" style="width:20px;height:20px"> back at 2</p>"#;
        assert_eq!(html_to_text(teams), "Lunch 🍕 back at 2");
        assert_eq!(html_to_text(r#"a<img src="x.png">b"#), "ab");
    }

    #[test]
    fn links_keep_their_text_only() {
        assert_eq!(
            html_to_text(r#"Book me <a href="https://outlook.office.com/book/x">here</a>."#),
            "Book me here."
        );
        assert_eq!(
            html_to_text(r#"<a href="javascript:alert(1)">click</a>"#),
            "click"
        );
    }

    #[test]
    fn hostile_markup_leaves_no_markup_and_no_script() {
        let out = html_to_text(
            "<script>alert('x')</script><style>p{color:red}</style><p onclick=\"x()\">hi</p>\
             <iframe src=\"https://evil\"></iframe><!-- hidden --><![CDATA[x]]>",
        );
        assert_eq!(out, "hi");
        let out = html_to_text("<b><i>unclosed <u>tags</b> <p <p>> &bogus; < > x");
        assert!(!out.contains("<u>") && !out.contains("<b>"), "{out:?}");
        assert!(out.contains("unclosed tags"), "{out:?}");
    }

    #[test]
    fn control_characters_and_overrides_are_dropped() {
        let out = html_to_text("<p>Back \u{1b}[2J at 3\u{202E}x&#27;&#x7;</p>");
        assert!(!out.chars().any(crate::text::is_unsafe), "{out:?}");
        assert_eq!(
            html_to_text("0<p/>!"),
            "0\n\n!",
            "a self-closed <p> opens one"
        );
        assert!(out.starts_with("Back"), "{out:?}");
    }

    #[test]
    fn deep_nesting_and_huge_input_are_bounded() {
        let deep = format!(
            "{}deep{}",
            "<div><span>".repeat(20_000),
            "</span></div>".repeat(20_000)
        );
        assert_eq!(html_to_text(&deep), "");
        let deep = format!("{}deep", "<b>".repeat(5_000));
        assert_eq!(html_to_text(&deep), "deep");
        let huge = "<p>word </p>".repeat(200_000);
        let out = html_to_text(&huge);
        assert!(out.chars().count() <= MAX_TEXT_CHARS + 3, "{}", out.len());
        assert!(out.ends_with("..."));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let s = "é".repeat(MAX_HTML_BYTES);
        assert!(cut_at_char(&s, MAX_HTML_BYTES + 1).len() <= MAX_HTML_BYTES + 1);
        assert_eq!(cut_at_char("aé", 2), "a");
        assert_eq!(cut_at_char("ab", 5), "ab");
    }

    proptest::proptest! {
        /// Whatever arrives: no panic, nothing unsafe for a terminal, never
        /// longer than the limit.
        #[test]
        fn any_input_gives_safe_bounded_text(raw in ".{0,2000}") {
            let out = html_to_text(&raw);
            // Line breaks are the one control character meant to be there.
            proptest::prop_assert!(!out.chars().any(|c| c != '\n' && crate::text::is_unsafe(c)));
            proptest::prop_assert!(!out.starts_with('\n') && !out.contains("\n\n\n"));
            proptest::prop_assert!(out.chars().count() <= MAX_TEXT_CHARS + 3);
        }

        /// Words wrapped in any of the tags Teams writes come out as the
        /// same words, and no tag is left.
        #[test]
        fn tags_go_and_words_stay(
            parts in proptest::collection::vec(
                ("[a-zA-Z0-9]{1,12}", 0usize..6), 1..30)
        ) {
            const TAGS: [(&str, &str); 6] = [
                ("<p>", "</p>"), ("<b>", "</b>"), ("<i>", "</i>"),
                ("<a href=\"https://x.example/\">", "</a>"),
                ("<span style=\"color:red\">", "</span>"), ("<div>", "</div>"),
            ];
            let html: String = parts
                .iter()
                .map(|(w, t)| format!("{}{w}{} ", TAGS[*t].0, TAGS[*t].1))
                .collect();
            let out = html_to_text(&html);
            let words: Vec<&str> = out.split_whitespace().collect();
            let want: Vec<&str> = parts.iter().map(|(w, _)| w.as_str()).collect();
            proptest::prop_assert_eq!(words, want);
            proptest::prop_assert!(!out.contains('<') && !out.contains('>'));
        }
    }
}
