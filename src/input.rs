//! Input documents as bytes: local files read safely, and their text encoding.
//!
//! Only regular files are read (a FIFO without a writer would block a scan forever,
//! `/dev/zero` never ends), never more than a documented limit, and a document in an
//! encoding the user can fix (UTF-16 from a PowerShell redirect) is named as such
//! instead of failing as "expected value at line 1". A UTF-8 byte-order mark is skipped.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The largest state or capture driftd reads: far above real ones (the largest
/// public states are tens of MB; a 100 MB state holds about 100,000 rules).
pub const MAX_DOCUMENT_BYTES: u64 = 2 << 30;

/// The largest config or secret file driftd reads.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is {0}, not a regular file")]
    NotAFile(&'static str),
    #[error("it holds {}, more than the {} driftd reads", Bytes(*size), Bytes(*limit))]
    TooLarge { size: u64, limit: u64 },
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    // The file may grow while it is read: never read past the limit.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Opens `path` if it is a regular file. It is opened without blocking (a FIFO
/// without a writer would block the open itself) and its type is read from the open
/// file, so that nothing can be swapped in between the look and the read.
pub fn open_regular(path: &Path) -> Result<std::fs::File, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    match not_a_file(&file.metadata()?.file_type()) {
        Some(kind) => Err(ReadError::NotAFile(kind)),
        None => Ok(file),
    }
}

/// [`read_file`] as UTF-8 text (a byte-order mark skipped).
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_file(path, limit)?;
    let text = utf8(&bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(text.to_string())
}

fn not_a_file(kind: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else {
        Some("not a file")
    }
}

/// A document in a text encoding driftd does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the document is {0}; save it as UTF-8 (e.g. `iconv -f {1} -t UTF-8`)")]
pub struct EncodingError(&'static str, &'static str);

/// The JSON or TOML text of a document: a UTF-8 byte-order mark skipped, UTF-16 and
/// UTF-32 (with or without a mark) refused by name. Other bytes are left to the parser.
pub fn document_bytes(bytes: &[u8]) -> Result<&[u8], EncodingError> {
    const UTF32LE: EncodingError = EncodingError("UTF-32 (little-endian)", "UTF-32LE");
    const UTF32BE: EncodingError = EncodingError("UTF-32 (big-endian)", "UTF-32BE");
    const UTF16LE: EncodingError = EncodingError("UTF-16 (little-endian)", "UTF-16LE");
    const UTF16BE: EncodingError = EncodingError("UTF-16 (big-endian)", "UTF-16BE");
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Ok(rest),
        [0xFF, 0xFE, 0, 0, ..] => Err(UTF32LE),
        [0, 0, 0xFE, 0xFF, ..] => Err(UTF32BE),
        [0xFF, 0xFE, ..] => Err(UTF16LE),
        [0xFE, 0xFF, ..] => Err(UTF16BE),
        // Without a mark, ASCII text in UTF-16/32 puts NULs beside its first character.
        [c, 0, 0, 0, ..] if *c != 0 => Err(UTF32LE),
        [0, 0, 0, c, ..] if *c != 0 => Err(UTF32BE),
        [c, 0, ..] if *c != 0 => Err(UTF16LE),
        [0, c, ..] if *c != 0 => Err(UTF16BE),
        _ => Ok(bytes),
    }
}

/// [`document_bytes`] as UTF-8 text.
pub fn utf8(bytes: &[u8]) -> Result<&str, String> {
    let bytes = document_bytes(bytes).map_err(|e| e.to_string())?;
    std::str::from_utf8(bytes).map_err(|e| format!("the document is not UTF-8 text ({e})"))
}

/// A size in bytes as a person reads it.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{} bytes", self.0)
        } else if value.fract() == 0.0 {
            write!(f, "{value} {}", UNITS[unit])
        } else {
            // Rounded, then exact: a size just past a limit must not read as the limit.
            write!(f, "{value:.1} {} ({} bytes)", UNITS[unit], self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_named_and_a_utf8_mark_skipped() {
        assert_eq!(document_bytes(b"\xEF\xBB\xBF{}").unwrap(), b"{}");
        assert_eq!(document_bytes(b"{}").unwrap(), b"{}");
        assert_eq!(document_bytes(b"").unwrap(), b"");
        let utf16le: Vec<u8> = "\u{feff}{}"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let utf16be: Vec<u8> = "{}".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let bare16le: Vec<u8> = "{}".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let utf32le: Vec<u8> = "\u{feff}{"
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        for (bytes, named) in [
            (utf16le, "UTF-16 (little-endian)"),
            (utf16be, "UTF-16 (big-endian)"),
            (bare16le, "UTF-16 (little-endian)"),
            (utf32le, "UTF-32 (little-endian)"),
        ] {
            let error = document_bytes(&bytes).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(Bytes(MAX_DOCUMENT_BYTES).to_string(), "2 GiB");
        assert_eq!(Bytes(MAX_CONFIG_BYTES).to_string(), "1 MiB");
        assert_eq!(
            Bytes((2 << 30) + 1).to_string(),
            "2.0 GiB (2147483649 bytes)"
        );
        assert_eq!(Bytes(12).to_string(), "12 bytes");
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_file(&path, 5).unwrap(), b"12345");
        let error = read_file(&path, 4).unwrap_err().to_string();
        assert_eq!(
            error,
            "it holds 5 bytes, more than the 4 bytes driftd reads"
        );
        let error = read_file(dir.path(), 4).unwrap_err().to_string();
        assert_eq!(error, "it is a directory, not a regular file");
        let error = read_file(Path::new("/dev/zero"), 4)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "it is a device, not a regular file");
    }
}
