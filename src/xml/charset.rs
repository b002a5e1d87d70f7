//! Reply bytes -> UTF-8 text, in the character encoding the backend actually answers in.
//!
//! Many services (government and bank ones in particular) answer ISO-8859-1 or Windows-1252,
//! declared in the XML declaration or in the Content-Type, and some answer UTF-16 with a BOM.
//! The XML reader works on UTF-8 text, so such replies are transcoded first.

use std::borrow::Cow;

use encoding_rs::{Encoding, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE};

use super::reader::XmlError;

/// How far into the reply the XML declaration is looked for: room for
/// `<?xml version="1.0" encoding="..." standalone="..."?>` with generous whitespace.
const DECLARATION_WINDOW: usize = 256;

/// The longest encoding label quoted back in an error: it comes from the backend.
const LABEL_MAX: usize = 40;

/// The reply as UTF-8 text: borrowed when it already is UTF-8 (the common case, no copy),
/// transcoded otherwise.
///
/// The encoding is chosen by the first of these that applies:
///
/// 1. A byte order mark (UTF-8, UTF-16LE, UTF-16BE), which is stripped from the text. It is part
///    of the bytes themselves, so it cannot be stale, and UTF-16 cannot be read at all without it.
/// 2. The `charset=` parameter of `content_type` (case-insensitive, quoted or not), when it names
///    an encoding that is known. The HTTP header is authoritative over the document's own
///    declaration (XML 1.0 appendix F.2, RFC 7303 section 3.2): a server or proxy that transcodes
///    a document fixes the header, not the declaration. A label that is not known (`charset=none`)
///    is server noise and is passed over, so the document may still say what it is.
/// 3. The `encoding="..."` pseudo-attribute of the XML declaration, read from the first bytes as
///    ASCII (a document without a BOM must be ASCII-compatible for its declaration to be read at
///    all). A declaration that names UTF-16 in ASCII bytes is wrong on its face and is read as
///    UTF-8, as the WHATWG rules do for HTML. An encoding that is not known is an error:
///    guessing would turn the text into something else without anyone noticing.
/// 4. UTF-8, the XML default.
///
/// Labels are looked up by the WHATWG rules (`encoding_rs`), so ISO-8859-1 decodes as
/// windows-1252: a superset for printable text, differing only in C1 control characters, which do
/// not occur in text.
///
/// Decoding is strict: a malformed sequence is an error, not U+FFFD. A replacement character
/// would quietly corrupt a name or an amount on its way into the JSON answer; an error says what
/// is wrong with the reply.
///
/// The XML declaration is left in the text as it was (e.g. still saying `ISO-8859-1`): the reader
/// takes its input as UTF-8 text and does not act on the declared encoding.
pub(crate) fn decode<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
) -> Result<Cow<'a, str>, XmlError> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return strict(encoding, &bytes[bom..]);
    }
    if let Some(encoding) = content_type
        .and_then(charset_param)
        .and_then(|label| known(label.as_bytes()))
    {
        return strict(encoding, bytes);
    }
    match declared_encoding(bytes) {
        None => strict(UTF_8, bytes),
        Some(label) => match known(label) {
            Some(encoding) if encoding == UTF_16LE || encoding == UTF_16BE => strict(UTF_8, bytes),
            Some(encoding) => strict(encoding, bytes),
            None => Err(XmlError::UnknownEncoding(shown_label(label))),
        },
    }
}

/// The encoding a label names, if it is one that can be decoded. The WHATWG "replacement"
/// encoding (labels such as `iso-2022-kr`) only turns the text into U+FFFD: it is not one.
fn known(label: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_label(label).filter(|e| *e != REPLACEMENT)
}

/// `bytes` decoded as `encoding`, strictly; borrowed when no copy is needed.
fn strict<'a>(encoding: &'static Encoding, bytes: &'a [u8]) -> Result<Cow<'a, str>, XmlError> {
    let bad = || XmlError::BadEncoding {
        encoding: encoding.name().to_string(),
    };
    if encoding == UTF_8 {
        return std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| bad());
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or_else(bad)
}

/// The `charset` parameter of a Content-Type, without quotes.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim();
        Some(
            ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
                .unwrap_or(value),
        )
    })
}

/// The `encoding` pseudo-attribute of the XML declaration the reply starts with, if any.
fn declared_encoding(bytes: &[u8]) -> Option<&[u8]> {
    let head = &bytes[..bytes.len().min(DECLARATION_WINDOW)];
    let rest = trim_start(head).strip_prefix(b"<?xml")?;
    // `<?xml-stylesheet ...?>` is a processing instruction, not the declaration.
    if !rest.first()?.is_ascii_whitespace() {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let mut rest = &rest[..end];
    loop {
        rest = trim_start(rest);
        let name_len = rest
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        if name_len == 0 {
            return None;
        }
        let (name, after) = rest.split_at(name_len);
        let after = trim_start(trim_start(after).strip_prefix(b"=")?);
        let (&quote, after) = after.split_first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let len = after.iter().position(|&b| b == quote)?;
        if name == b"encoding" {
            return Some(&after[..len]);
        }
        rest = &after[len + 1..];
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// A label from the backend as it may be shown: short and without control characters.
fn shown_label(label: &[u8]) -> String {
    String::from_utf8_lossy(label)
        .chars()
        .take(LABEL_MAX)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::node::Node as _;
    use crate::soap::{SoapReply, read_soap};
    use crate::xml::reader::{ArrayHints, Limits};
    use serde_json::json;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xfe, 0xff]
        } else {
            vec![0xff, 0xfe]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn utf8_reply_is_borrowed_without_copy() {
        let xml = "<?xml version=\"1.0\"?><a>São Paulo</a>".as_bytes();
        let text = decode(xml, Some("text/xml; charset=utf-8")).unwrap();
        assert!(matches!(text, Cow::Borrowed(_)));
        assert_eq!(text, "<?xml version=\"1.0\"?><a>São Paulo</a>");
        assert!(matches!(decode(xml, None).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn utf8_bom_is_stripped_and_still_borrowed() {
        let text = decode(b"\xef\xbb\xbf<a>S\xc3\xa3o</a>", None).unwrap();
        assert!(matches!(text, Cow::Borrowed(_)));
        assert_eq!(text, "<a>São</a>");
    }

    #[test]
    fn latin1_declared_in_xml_declaration_decodes() {
        let xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>S\xe3o Paulo</a>";
        assert_eq!(
            decode(xml, Some("text/xml")).unwrap(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>São Paulo</a>"
        );
        // Single quotes, whitespace around `=`, other pseudo-attributes after it.
        let xml =
            b"<?xml version='1.0'\n  encoding = 'iso-8859-1' standalone='yes' ?><a>S\xe3o</a>";
        assert_eq!(
            decode(xml, None).unwrap(),
            "<?xml version='1.0'\n  encoding = 'iso-8859-1' standalone='yes' ?><a>São</a>"
        );
    }

    #[test]
    fn windows1252_from_content_type_charset_decodes() {
        let xml = b"<a>\x93S\xe3o Paulo\x94</a>";
        assert_eq!(
            decode(xml, Some("text/xml; Charset=\"Windows-1252\"")).unwrap(),
            "<a>\u{201c}São Paulo\u{201d}</a>"
        );
        assert_eq!(
            decode(xml, Some("application/soap+xml;action=x;charset=cp1252")).unwrap(),
            "<a>\u{201c}São Paulo\u{201d}</a>"
        );
    }

    #[test]
    fn content_type_charset_wins_over_declaration() {
        // The header says windows-1252, the (stale) declaration says UTF-8: the header wins.
        let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>S\xe3o</a>";
        assert_eq!(
            decode(xml, Some("text/xml; charset=ISO-8859-1")).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>São</a>"
        );
        // A charset that is not known is passed over: the declaration decides.
        let xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>S\xe3o</a>";
        assert_eq!(
            decode(xml, Some("text/xml; charset=none")).unwrap(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>São</a>"
        );
    }

    #[test]
    fn bom_wins_over_content_type_and_declaration() {
        let bytes = utf16("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", false);
        assert_eq!(
            decode(&bytes, Some("text/xml; charset=ISO-8859-1")).unwrap(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"
        );
    }

    #[test]
    fn utf16le_with_bom_decodes() {
        let bytes = utf16(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>São €</a>",
            false,
        );
        assert_eq!(
            decode(&bytes, None).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>São €</a>"
        );
        // The declaration still says UTF-16 after transcoding: the reader does not mind.
        let bytes = utf16(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\
             <s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <s:Body><City>São Paulo</City></s:Body></s:Envelope>",
            false,
        );
        let text = decode(&bytes, None).unwrap();
        let hints = ArrayHints::default();
        let SoapReply::Body(doc) = read_soap(&text, &hints, Limits::default()).unwrap() else {
            panic!("expected a body");
        };
        assert_eq!(doc.body().to_value(), json!({"City": "São Paulo"}));
    }

    #[test]
    fn utf16be_with_bom_decodes() {
        let bytes = utf16("<a>São 𝄞</a>", true);
        assert_eq!(decode(&bytes, None).unwrap(), "<a>São 𝄞</a>");
    }

    #[test]
    fn malformed_utf16_is_a_clear_error() {
        let mut bytes = utf16("<a/>", false);
        bytes.push(b'x'); // an odd byte count
        let e = decode(&bytes, None).unwrap_err();
        assert_eq!(e.to_string(), "the reply is not valid UTF-16LE text");
    }

    #[test]
    fn declared_utf16_in_ascii_bytes_is_read_as_utf8() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>São</a>".as_bytes();
        assert_eq!(
            decode(xml, None).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>São</a>"
        );
    }

    #[test]
    fn invalid_utf8_without_declaration_is_a_clear_error() {
        let e = decode(b"<a>S\xe3o Paulo</a>", Some("text/xml")).unwrap_err();
        assert_eq!(
            e,
            XmlError::BadEncoding {
                encoding: "UTF-8".into()
            }
        );
        assert_eq!(e.to_string(), "the reply is not valid UTF-8 text");
        // A processing instruction that only looks like the declaration declares nothing.
        let e = decode(
            b"<?xml-stylesheet encoding=\"ISO-8859-1\"?><a>S\xe3o</a>",
            None,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "the reply is not valid UTF-8 text");
    }

    #[test]
    fn unknown_declared_encoding_is_a_clear_error() {
        let e = decode(b"<?xml version=\"1.0\" encoding=\"EBCDIC-BR\"?><a/>", None).unwrap_err();
        assert_eq!(e, XmlError::UnknownEncoding("EBCDIC-BR".into()));
        assert_eq!(
            e.to_string(),
            "the reply declares the unknown character encoding `EBCDIC-BR`"
        );
        // The label comes from the backend: it is cut short and has no control characters.
        let long = format!(
            "<?xml version=\"1.0\" encoding=\"{}\x1b[31m\"?><a/>",
            "x".repeat(36)
        );
        let XmlError::UnknownEncoding(shown) = decode(long.as_bytes(), None).unwrap_err() else {
            panic!("expected an unknown encoding");
        };
        assert_eq!(shown, format!("{}\u{fffd}[31", "x".repeat(36)));
        // An encoding that decodes everything to U+FFFD is no encoding for this.
        let e = decode(
            b"<?xml version=\"1.0\" encoding=\"iso-2022-kr\"?><a/>",
            None,
        );
        assert_eq!(e, Err(XmlError::UnknownEncoding("iso-2022-kr".into())));
    }

    #[test]
    fn latin1_soap_reply_reads_through_read_soap() {
        let xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\
            <s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
            <R xmlns=\"urn:x\"><City>S\xe3o Paulo</City></R></s:Body></s:Envelope>";
        let text = decode(xml, Some("text/xml")).unwrap();
        assert!(matches!(text, Cow::Owned(_)));
        let hints = ArrayHints::default();
        let SoapReply::Body(doc) = read_soap(&text, &hints, Limits::default()).unwrap() else {
            panic!("expected a body");
        };
        assert_eq!(doc.body().to_value(), json!({"R": {"City": "São Paulo"}}));
    }
}
