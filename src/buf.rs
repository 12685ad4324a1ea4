//! A fixed-capacity byte buffer that responses and log lines are assembled in, so that
//! each goes out in a single `write(2)` without an allocator or `core::fmt`.

/// How many bytes a `Buf` holds: more than the largest response head the server builds
/// in one (about 300 bytes; longer ones leave in pieces), and a log line (whose request
/// bytes are shortened to fit, visibly).
pub const CAPACITY: usize = 1024;

/// Bytes appended to a fixed array. What does not fit is dropped, never panics, and the
/// buffer remembers it ([`Buf::is_cut`]): nothing built in it is sent or written cut
/// without saying so.
///
/// One size for all (not a const generic): each method is compiled once, which keeps the
/// binary small.
pub struct Buf {
    bytes: [u8; CAPACITY],
    len: usize,
    /// Something did not fit and was dropped.
    cut: bool,
}

/// What a line shortened to fit shows where its end was: `…`, which no escaped request
/// byte can be (those are ASCII).
pub const ELLIPSIS: &[u8] = "\u{2026}".as_bytes();

impl Default for Buf {
    fn default() -> Self {
        Self::new()
    }
}

impl Buf {
    /// Out of line: inlined, each of the many buffers would carry its own 1 KiB `memset`
    /// call.
    #[inline(never)]
    pub const fn new() -> Self {
        Self { bytes: [0; CAPACITY], len: 0, cut: false }
    }

    /// Appends as much of `s` as fits.
    #[inline(never)]
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        let n = s.len().min(CAPACITY - self.len);
        self.cut |= n < s.len();
        if let (Some(dst), Some(src)) = (self.bytes.get_mut(self.len..self.len + n), s.get(..n)) {
            copy(dst, src);
            self.len += n;
        }
        self
    }

/// Appends one byte, if it fits.
    #[inline(never)]
    pub fn byte(&mut self, b: u8) -> &mut Self {
        match self.bytes.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.cut = true,
        }
        self
    }

    /// Appends `v` in decimal.
    pub fn num(&mut self, v: u64) -> &mut Self {
        self.num_width(v, 1)
    }

    /// Appends `v` in decimal, zero-padded to at least `width` digits (at most 20).
    #[inline(never)]
    pub fn num_width(&mut self, mut v: u64, width: usize) -> &mut Self {
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        while v > 0 || start > digits.len() - width.clamp(1, 20) {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
        self.push(digits.get(start..).unwrap_or(&[]))
    }

    /// Appends `v` in lowercase hexadecimal without leading zeros.
    #[inline(never)]
    pub fn hex(&mut self, v: u64) -> &mut Self {
        // Digits from the highest non-zero one; at least one for 0.
        let mut shift = (63 - v.leading_zeros().min(63)) & !3;
        loop {
            let d = ((v >> shift) & 0xf) as u8;
            self.byte(if d < 10 { b'0' + d } else { b'a' + d - 10 });
            if shift == 0 {
                return self;
            }
            shift -= 4;
        }
    }

    /// Appends what `read` writes at the start of the room it is given (at most `n`
    /// bytes), and returns how many it says it wrote; nothing if it fails.
    pub fn read_in<E>(&mut self, n: usize, read: impl FnOnce(&mut [u8]) -> Result<usize, E>) -> Result<usize, E> {
        let room = self.bytes.get_mut(self.len..).unwrap_or(&mut []);
        let n = n.min(room.len());
        let got = read(room.get_mut(..n).unwrap_or(&mut []))?.min(n);
        self.len += got;
        Ok(got)
    }

    /// Empties the buffer for the next piece.
    pub fn clear(&mut self) -> &mut Self {
        self.len = 0;
        self.cut = false;
        self
    }

    /// Ends a line with its newline; if something of it did not fit, its last bytes give
    /// way to `…` first, so that a shortened line says so and still ends.
    pub fn end_line(&mut self) -> &mut Self {
        if self.cut || self.len == CAPACITY {
            self.len = self.len.min(CAPACITY - ELLIPSIS.len() - 1);
            self.push(ELLIPSIS);
        }
        self.byte(b'\n')
    }

    /// Something pushed did not fit, and was dropped.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// How many more bytes fit.
    pub fn room(&self) -> usize {
        CAPACITY - self.len
    }

    /// Out of line: inlined, every caller would carry the bounds check.
    #[inline(never)]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

/// No room is left.
    pub fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Forgets the bytes from `len` on (a piece undone).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

/// `src` into `dst` (as long). Most pieces of a head are a few bytes (`\r\n`, `: `, a
/// digit), and the `memcpy` this binary has (compiler_builtins': three `rep movs`) costs
/// about as much for one byte as for a hundred: a file's head made 76 calls of it, a
/// sixth of the child's CPU time (issue 19). So short pieces are copied a word, or a
/// byte, at a time.
fn copy(dst: &mut [u8], src: &[u8]) {
    if src.len() > 32 {
        dst.copy_from_slice(src);
        return;
    }
    let mut dst = dst.chunks_exact_mut(8);
    let mut src = src.chunks_exact(8);
    for (d, s) in (&mut dst).zip(&mut src) {
        if let (Ok(d), Ok(s)) = (<&mut [u8; 8]>::try_from(d), <&[u8; 8]>::try_from(s)) {
            *d = *s;
        }
    }
    for (d, s) in dst.into_remainder().iter_mut().zip(src.remainder()) {
        *d = *s;
    }
}

/// The parts of `bytes` between `sep`s. Every caller splits with this one closure type,
/// so that the binary holds one `Split::next`, not one per separator.
pub fn split(bytes: &[u8], sep: u8) -> core::slice::Split<'_, u8, impl FnMut(&u8) -> bool> {
    bytes.split(move |&b| b == sep)
}

#[cfg(test)]
mod tests {
    use super::{Buf, CAPACITY};

    #[test]
    fn numbers() {
        let mut b = Buf::new();
        b.num(0).byte(b' ').num(42).byte(b' ').num(u64::MAX).byte(b' ').num_width(7, 2);
        b.byte(b' ').num_width(1994, 2).byte(b' ').hex(0).byte(b' ').hex(0xfe80).byte(b' ').hex(0x0db8);
        b.byte(b' ').hex(0xf).byte(b' ').hex(0x10).byte(b' ').hex(u64::MAX).byte(b' ').hex(1 << 63);
        assert_eq!(b.as_bytes(), b"0 42 18446744073709551615 07 1994 0 fe80 db8 f 10 ffffffffffffffff 8000000000000000");
    }

    #[test]
    fn overflow_is_cut_not_a_panic() {
        let mut b = Buf::new();
        b.push(&[b'x'; CAPACITY - 2]).push(b"ab");
        assert!(b.is_full() && !b.is_cut(), "full is not cut");
        b.clear().push(&[b'x'; CAPACITY - 1]).push(b"abc").num(12345);
        assert_eq!(b.as_bytes().len(), CAPACITY);
        assert!(b.as_bytes().ends_with(b"xa"));
        assert!(b.is_full() && b.is_cut());
        assert!(!b.clear().is_cut());
    }

    #[test]
    fn pieces_of_every_length_arrive_whole() {
        let source: Vec<u8> = (0..=255u8).cycle().take(100).collect();
        for at in [0, 1, 7, 8, 9] {
            for len in 0..=40 {
                let mut b = Buf::new();
                b.push(&source[..at]).push(&source[at..at + len]);
                assert_eq!(b.as_bytes(), &source[..at + len], "{at} then {len}");
            }
        }
        let mut b = Buf::new();
        b.push(&[b'x'; CAPACITY - 1]).byte(b'y').byte(b'z');
        assert!(b.is_cut() && b.as_bytes().ends_with(b"xy"));
    }

    #[test]
    fn read_in_takes_what_was_read_and_what_fits() {
        let mut b = Buf::new();
        b.push(b"head:");
        let got = b.read_in(10, |room| {
            assert_eq!(room.len(), 10);
            room[..4].copy_from_slice(b"body");
            Ok::<_, ()>(4)
        });
        assert_eq!((got, b.as_bytes()), (Ok(4), &b"head:body"[..]));
        assert_eq!(b.read_in(10, |_| Err(())), Err(()));
        assert_eq!(b.as_bytes(), b"head:body");
        b.clear().push(&[b'x'; CAPACITY - 3]);
        assert_eq!(b.read_in(10, |room| Ok::<_, ()>(room.len())), Ok(3));
        assert!(b.is_full() && !b.is_cut());
    }

    #[test]
    fn a_line_that_did_not_fit_says_so_and_ends() {
        let mut b = Buf::new();
        b.push(b"short").end_line();
        assert_eq!(b.as_bytes(), b"short\n");
        b.clear().push(&[b'x'; CAPACITY + 10]).end_line();
        assert_eq!(b.as_bytes().len(), CAPACITY);
        assert!(b.as_bytes().ends_with("x\u{2026}\n".as_bytes()));
        b.clear().push(&[b'x'; CAPACITY]).end_line();
        assert!(b.as_bytes().ends_with("x\u{2026}\n".as_bytes()), "a full line has no room for its newline");
    }
}
