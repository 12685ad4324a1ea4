//! The chunked transfer coding of a request body (RFC 9112 §7.1), decoded as its bytes
//! arrive, in any pieces: `curl -T -`, Go's and Python's clients send bodies of unknown
//! length this way. Bytes only: no syscalls.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! last-chunk   = 1*"0" [ chunk-ext ] CRLF
//! ```
//!
//! Strict where the framing is: every line ends with CRLF (a bare LF or CR is malformed,
//! as is a size that does not fit in 64 bits); chunk extensions are skipped, and so are
//! trailer fields (a CGI program gets the body, not its framing), each line at most
//! [`LINE_MAX`] bytes.

/// The longest size line (extensions included) or trailer line taken.
pub const LINE_MAX: usize = 4096;

/// Where the decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In a chunk-size's hex digits (`digits` of them so far).
    Size,
    /// After the size: whitespace before a `;`, then the extensions, up to CR.
    Extension,
    /// The size line's CR came: its LF must follow.
    SizeLf,
    /// In the chunk's data: `left` bytes to go.
    Data,
    /// After the data: CR, then LF.
    DataCr,
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// In a trailer field line, up to CR; then LF.
    Trailer,
    TrailerLf,
    /// The final empty line's CR came: its LF ends the body.
    EndLf,
    Done,
}

/// Why the body can never be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// A chunked body being decoded.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    /// The chunk size read so far, then the data bytes left of the chunk.
    left: u64,
    digits: usize,
    /// Bytes of the current size or trailer line.
    line: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
/// At the start of a body.
    pub const fn new() -> Self {
        Decoder { state: State::Size, left: 0, digits: 0, line: 0 }
    }

    /// The body has ended (the final empty line came).
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, handing each run of body bytes to `data`; returns how many bytes
    /// of `input` belong to the body (less than all once it ends: what follows is the
    /// next message's).
    pub fn feed(&mut self, input: &[u8], data: &mut dyn FnMut(&[u8])) -> Result<usize, Malformed> {
        let mut at = 0;
        while let Some(&b) = input.get(at) {
            if self.state == State::Done {
                break;
            }
            if self.state == State::Data {
                let run = input.get(at..).unwrap_or(&[]);
                let n = run.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
                data(run.get(..n).unwrap_or(&[]));
                self.left -= n as u64;
                at += n;
                if self.left == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            self.state = self.step(b)?;
            at += 1;
        }
        Ok(at)
    }

    /// One byte of framing.
    fn step(&mut self, b: u8) -> Result<State, Malformed> {
        self.line += 1;
        if self.line > LINE_MAX {
            return Err(Malformed("a chunk-size or trailer line over 4 KiB"));
        }
        Ok(match (self.state, b) {
            (State::Size, _) if b.is_ascii_hexdigit() => {
                self.digits += 1;
                if self.left >> 60 != 0 {
                    return Err(Malformed("a chunk size over 64 bits"));
                }
                self.left = self.left << 4 | u64::from((b as char).to_digit(16).unwrap_or(0));
                State::Size
            }
            (State::Size, b';' | b' ' | b'\t') if self.digits > 0 => State::Extension,
            (State::Size, b'\r') if self.digits > 0 => State::SizeLf,
            (State::Size, _) => return Err(Malformed("a chunk size that is not hex digits")),
            (State::Extension, b'\r') => State::SizeLf,
            (State::Extension, _) if b == b'\t' || (b >= b' ' && b != 0x7f) => State::Extension,
            (State::SizeLf, b'\n') => {
                self.line = 0;
                if self.left == 0 { State::TrailerStart } else { State::Data }
            }
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => {
                (self.line, self.digits) = (0, 0);
                State::Size
            }
            (State::TrailerStart, b'\r') => State::EndLf,
            (State::Trailer, b'\r') => State::TrailerLf,
            (State::TrailerStart | State::Trailer, _) if b == b'\t' || (b >= b' ' && b != 0x7f) => State::Trailer,
            (State::TrailerLf, b'\n') => {
                self.line = 0;
                State::TrailerStart
            }
            (State::EndLf, b'\n') => State::Done,
            _ => return Err(Malformed("a line not ended by CRLF, or a control byte")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body of `input` fed in pieces of `piece` bytes, and how much input it took.
    fn decode(input: &[u8], piece: usize) -> Result<(Vec<u8>, usize, bool), Malformed> {
        let (mut d, mut out, mut used) = (Decoder::new(), Vec::new(), 0);
        for part in input.chunks(piece.max(1)) {
            let n = d.feed(part, &mut |bytes| out.extend_from_slice(bytes))?;
            used += n;
            if n < part.len() {
                break;
            }
        }
        Ok((out, used, d.done()))
    }

    #[test]
    fn bodies_in_any_pieces() {
        let body = b"5\r\nhello\r\n6;name=value; x\r\n world\r\n000\r\nX-Trailer: t\r\nY: u\r\n\r\nGET /next";
        let end = body.len() - b"GET /next".len();
        for piece in [1, 2, 3, 7, 1000] {
            assert_eq!(decode(body, piece), Ok((b"hello world".to_vec(), end, true)), "pieces of {piece}");
        }
        assert_eq!(decode(b"0\r\n\r\n", 1), Ok((vec![], 5, true)));
        assert_eq!(decode(b"A\r\n0123456789\r\n0\r\n\r\n", 4).unwrap().0, b"0123456789");
        assert_eq!(decode(b"a\r\n0123456789\r\n0 ; ext\r\n\r\n", 4).unwrap().0, b"0123456789");
        // Not done until the final empty line.
        let partial = decode(b"5\r\nhello\r\n0\r\n", 1).unwrap();
        assert_eq!((partial.0.as_slice(), partial.2), (&b"hello"[..], false));
        let max = decode(b"000000000000000000000ffffffffffffffff\r\n", 5).unwrap();
        assert_eq!((max.0.len(), max.2), (0, false), "a size of 2^64-1 with leading zeros is valid");
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\r\n"[..],                              // no size
            b"x\r\n",                                  // not hex
            b"-5\r\nhello\r\n",                        // not hex
            b"5\nhello\r\n0\r\n\r\n",                  // bare LF
            b"5\rhello",                               // bare CR
            b"5\r\nhelloX\r\n",                        // data longer than its size
            b"5\r\nhello\n0\r\n\r\n",                  // LF after the data
            b"10000000000000000\r\n",                  // over 64 bits
            b"5;a\x00b\r\n",                           // control byte in an extension
            b"0\r\nX: a\nY: b\r\n\r\n",                // bare LF in the trailer
            b"0\r\n\r\r",                              // no LF at the end
        ] {
            for piece in [1, 3, 100] {
                assert!(decode(bad, piece).is_err(), "{:?} in pieces of {piece}", String::from_utf8_lossy(bad));
            }
        }
        let long = [b"5;".as_slice(), &[b'e'; LINE_MAX], b"\r\nhello\r\n0\r\n\r\n"].concat();
        assert!(decode(&long, 100).is_err());
    }
}
