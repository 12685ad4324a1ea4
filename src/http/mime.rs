//! The built-in `Content-Type` table: a file's type by its name's extension. Bytes only:
//! no syscalls.

use crate::http::request::is;

/// One line per type: its extensions (lowercase, space-separated), `:`, the type, `\n`. Text
/// types say `charset=utf-8`, which browsers otherwise guess. One string: no pointers,
/// no per-entry padding.
const TABLE: &[u8] = b"\
html htm:text/html; charset=utf-8
css:text/css; charset=utf-8
js mjs:text/javascript; charset=utf-8
txt:text/plain; charset=utf-8
md:text/markdown; charset=utf-8
csv:text/csv; charset=utf-8
json map:application/json
webmanifest:application/manifest+json
xml:application/xml
xhtml:application/xhtml+xml
svg:image/svg+xml
png:image/png
apng:image/apng
jpg jpeg:image/jpeg
gif:image/gif
webp:image/webp
avif:image/avif
ico:image/x-icon
woff:font/woff
woff2:font/woff2
ttf:font/ttf
otf:font/otf
pdf:application/pdf
wasm:application/wasm
mp4:video/mp4
webm:video/webm
mp3:audio/mpeg
ogg opus:audio/ogg
wav:audio/wav
flac:audio/flac
m4a:audio/mp4
zip:application/zip
gz:application/gzip
tar:application/x-tar
xz:application/x-xz
bz2:application/x-bzip2
zst:application/zstd
";

/// What a name without a known extension is sent as.
const DEFAULT: &[u8] = b"application/octet-stream";

/// The `Content-Type` for a file name (or path), by its extension in any case:
/// `application/octet-stream` for an unknown extension or none.
pub fn content_type(name: &[u8]) -> &'static [u8] {
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return DEFAULT;
    };
    // (An empty extension matches no word of the table: none is empty.)
    let ext = name.get(dot + 1..).unwrap_or(&[]);
    // One pass over the table: `word` is where the current extension or type starts.
    let (mut word, mut in_exts, mut hit) = (0, true, false);
    for (i, &b) in TABLE.iter().enumerate() {
        if in_exts && (b == b' ' || b == b':') {
            hit |= is(ext, TABLE.get(word..i).unwrap_or(&[]));
            (word, in_exts) = (i + 1, b == b' ');
        } else if b == b'\n' {
            if hit {
                return TABLE.get(word..i).unwrap_or(DEFAULT);
            }
            (word, in_exts) = (i + 1, true);
        }
    }
    DEFAULT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(name: &str) -> &'static str {
        std::str::from_utf8(content_type(name.as_bytes())).unwrap()
    }

    #[test]
    fn what_a_site_needs() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("a.htm", "text/html; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.mjs", "text/javascript; charset=utf-8"),
            ("data.json", "application/json"),
            ("app.js.map", "application/json"),
            ("readme.txt", "text/plain; charset=utf-8"),
            ("README.md", "text/markdown; charset=utf-8"),
            ("t.csv", "text/csv; charset=utf-8"),
            ("feed.xml", "application/xml"),
            ("p.xhtml", "application/xhtml+xml"),
            ("site.webmanifest", "application/manifest+json"),
            ("logo.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.apng", "image/apng"),
            ("a.jpg", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.avif", "image/avif"),
            ("favicon.ico", "image/x-icon"),
            ("f.woff", "font/woff"),
            ("f.woff2", "font/woff2"),
            ("f.ttf", "font/ttf"),
            ("f.otf", "font/otf"),
            ("doc.pdf", "application/pdf"),
            ("m.wasm", "application/wasm"),
            ("v.mp4", "video/mp4"),
            ("v.webm", "video/webm"),
            ("s.mp3", "audio/mpeg"),
            ("s.ogg", "audio/ogg"),
            ("s.opus", "audio/ogg"),
            ("s.wav", "audio/wav"),
            ("s.flac", "audio/flac"),
            ("s.m4a", "audio/mp4"),
            ("a.zip", "application/zip"),
            ("a.tar.gz", "application/gzip"),
            ("a.tar", "application/x-tar"),
            ("a.tar.xz", "application/x-xz"),
            ("a.tar.bz2", "application/x-bzip2"),
            ("a.tar.zst", "application/zstd"),
        ];
        for (name, want) in cases {
            assert_eq!(ct(name), want, "{name}");
        }
    }

    #[test]
    fn any_case_last_extension_and_paths() {
        assert_eq!(ct("INDEX.HTML"), "text/html; charset=utf-8");
        assert_eq!(ct("a.Css"), "text/css; charset=utf-8");
        assert_eq!(ct("photo.JPEG"), "image/jpeg");
        assert_eq!(ct("/sub/dir/a.woff2"), "font/woff2");
        assert_eq!(ct("/a.html/b.png"), "image/png");
        assert_eq!(ct("a.png.txt"), "text/plain; charset=utf-8");
        assert_eq!(ct("/d.html/file"), DEFAULT_STR); // a dot in a directory's name is not an extension
        assert_eq!(ct(".html"), "text/html; charset=utf-8");
    }

    const DEFAULT_STR: &str = "application/octet-stream";

    #[test]
    fn unknown() {
        for name in ["", "README", "a.", "a..", ".", "a.exe", "a.html5", "a.htmlx", "a.xhtm", "a.h", "a.j", "a.woff3", "a. html", "a.html ", "a.ht ml", "a.:", "a.html:text", "a.:text/html", "a.js mjs", "a.\n", "a.\u{e9}"] {
            assert_eq!(ct(name), DEFAULT_STR, "{name:?}");
        }
    }

    #[test]
    fn every_entry_is_well_formed() {
        let table = std::str::from_utf8(TABLE).unwrap();
        let table = table.strip_suffix('\n').expect("the last line ends too");
        for line in table.split('\n') {
            let (exts, mime) = line.split_once(':').unwrap();
            assert!(mime.contains('/') && !mime.contains(':'), "{line}");
            assert_eq!(mime.starts_with("text/"), mime.ends_with("; charset=utf-8"), "{line}");
            for ext in exts.split(' ') {
                assert!(!ext.is_empty() && ext.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{line}");
                assert_eq!(ct(&format!("x.{ext}")), mime, "an earlier line takes .{ext}");
            }
        }
    }
}
