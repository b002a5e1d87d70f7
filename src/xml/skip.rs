//! Skipping an element that no mapping reads without tokenising it (issue 15): its content is
//! scanned for `<` with memchr and only markup boundaries are looked at: start tags (attribute
//! values quoted with either quote may hold `>`), end tags, comments, CDATA sections and
//! processing instructions (any of which may hold text that looks like a tag). Nesting is counted
//! over every element, so the reader's depth limit still applies inside skipped content, and a
//! DOCTYPE is refused there as anywhere.
//!
//! End tags must match their start tags, as in read content: a broken reply is refused whichever
//! part of it the mapping reads. What is not checked in skipped content: attribute syntax and
//! entity references; none of it reaches the caller.

use memchr::{memchr, memchr3, memmem};

/// Why a scan stopped before the end of the element.
#[derive(Debug, PartialEq)]
pub(crate) enum Unskippable {
    /// The document ends inside the element (at this offset in the scanned bytes).
    Eof(usize),
    /// Elements nest deeper than the room left.
    TooDeep,
    /// A `<!DOCTYPE` (or another `<!` declaration) at this offset; its text runs to `end`.
    Declaration { at: usize, end: usize },
    /// An end tag at this offset does not match the start tag it closes.
    Mismatch(usize),
}

/// The offset in `rest` of the `<` of the end tag that closes the element whose start tag was
/// just read; `rest` is the document after that start tag. `room` is how many levels may open,
/// counting the skipped element itself (the reader's limit minus the depth of its parent).
pub(crate) fn end_of_element(rest: &[u8], room: usize) -> Result<usize, Unskippable> {
    let mut depth = 1usize;
    // Names of the open elements inside the skipped one, as offsets into `rest`: no allocation
    // until one nests.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut i = 0usize;
    loop {
        let at = i + memchr(b'<', &rest[i..]).ok_or(Unskippable::Eof(rest.len()))?;
        let markup = &rest[at + 1..];
        i = match markup.first() {
            Some(b'/') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(at);
                }
                let (start, len) = open.pop().ok_or(Unskippable::Mismatch(at))?;
                if tag_name(rest, at + 2) != &rest[start..start + len] {
                    return Err(Unskippable::Mismatch(at));
                }
                after(rest, at, b">")?
            }
            Some(b'!') if markup.starts_with(b"!--") => after(rest, at + 4, b"-->")?,
            Some(b'!') if markup.starts_with(b"![CDATA[") => after(rest, at + 9, b"]]>")?,
            Some(b'!') => {
                return Err(Unskippable::Declaration {
                    at,
                    end: after(rest, at, b">").unwrap_or(rest.len()),
                });
            }
            Some(b'?') => after(rest, at + 2, b"?>")?,
            _ => {
                let (end, empty) = start_tag_end(rest, at + 1)?;
                if !empty {
                    depth += 1;
                    if depth > room {
                        return Err(Unskippable::TooDeep);
                    }
                    open.push((at + 1, tag_name(rest, at + 1).len()));
                }
                end
            }
        };
    }
}

/// The name of a tag that begins at `from`: up to white space, `/` or `>`.
fn tag_name(rest: &[u8], from: usize) -> &[u8] {
    let tail = &rest[from.min(rest.len())..];
    let len = tail
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
        .unwrap_or(tail.len());
    &tail[..len]
}

/// The offset just past the first `needle` at or after `from`.
fn after(rest: &[u8], from: usize, needle: &[u8]) -> Result<usize, Unskippable> {
    let from = from.min(rest.len());
    let found = if let [one] = needle {
        memchr(*one, &rest[from..])
    } else {
        memmem::find(&rest[from..], needle)
    };
    found
        .map(|n| from + n + needle.len())
        .ok_or(Unskippable::Eof(rest.len()))
}

/// The offset just past the `>` of a start tag whose name begins at `from`, and whether the tag
/// is empty (`/>`). Quoted attribute values are stepped over whole.
fn start_tag_end(rest: &[u8], mut from: usize) -> Result<(usize, bool), Unskippable> {
    loop {
        let n = memchr3(b'>', b'"', b'\'', &rest[from..]).ok_or(Unskippable::Eof(rest.len()))?;
        let at = from + n;
        match rest[at] {
            b'>' => return Ok((at + 1, at > 0 && rest[at - 1] == b'/')),
            quote => from = after(rest, at + 1, &[quote])?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Unskippable, end_of_element};

    /// The content after `<a>` and the offset where its end tag starts.
    fn end(content: &str) -> Result<usize, Unskippable> {
        end_of_element(content.as_bytes(), 64)
    }

    #[test]
    fn nested_elements_of_the_same_name_are_counted() {
        let content = "<a><a/>x</a><b>y</b></a><a>next</a>";
        assert_eq!(end(content), Ok(content.find("</a><a>next").unwrap()));
    }

    #[test]
    fn tags_inside_cdata_comments_pis_and_quoted_attributes_are_text() {
        let content = r#"<b t="</a>" u='>'/><![CDATA[</a>]]><!-- </a> --><?pi </a> ?>text</a>"#;
        assert_eq!(end(content), Ok(content.len() - 4));
    }

    #[test]
    fn an_unclosed_element_is_the_end_of_the_document() {
        assert_eq!(end("<b>text</b>"), Err(Unskippable::Eof(11)));
        assert_eq!(end("<!-- </a>"), Err(Unskippable::Eof(9)));
        assert_eq!(end(r#"<b t="</a>"#), Err(Unskippable::Eof(10)));
    }

    #[test]
    fn an_end_tag_that_does_not_match_is_refused() {
        assert_eq!(end("<b><c></b></c></a>"), Err(Unskippable::Mismatch(6)));
        assert_eq!(end("<b x='1'></b ></a>"), Ok(14));
    }

    #[test]
    fn nesting_beyond_the_room_left_is_refused() {
        assert_eq!(end_of_element(b"<b><c></c></b></a>", 3), Ok(14));
        assert_eq!(
            end_of_element(b"<b><c><d/></c></b></a>", 2),
            Err(Unskippable::TooDeep)
        );
    }

    #[test]
    fn a_doctype_inside_skipped_content_is_refused() {
        assert_eq!(
            end("<!DOCTYPE x [<!ENTITY e 'x'>]></a>"),
            Err(Unskippable::Declaration { at: 0, end: 28 })
        );
    }
}
