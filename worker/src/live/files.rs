//! The worker's end of the live output files in a task's spool directory: the supervisor
//! appends each stream's bytes as the process prints them (up to a limit; see
//! [`crate::exec::supervisor::live_tees`]), the worker reads what is new.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Most bytes read from one file per pass. More waiting than [`MAX_BACKLOG_BYTES`] (the
/// process prints faster than the server takes it) is skipped down to the newest
/// [`MAX_READ_BYTES`]: live output shows what happens now.
pub const MAX_READ_BYTES: u64 = 64 * 1024;
/// Most bytes left unread before the oldest are skipped.
pub const MAX_BACKLOG_BYTES: u64 = 256 * 1024;

/// The worker's reading end of one live file.
#[derive(Debug)]
pub struct LiveFile {
    path: PathBuf,
    file: Option<File>,
    /// Bytes read (or skipped) so far.
    position: u64,
}

/// What one read of a live file gave.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NewBytes {
    /// Bytes skipped before `bytes` (the reader fell behind).
    pub skipped: u64,
    /// The new bytes.
    pub bytes: Vec<u8>,
}

impl LiveFile {
    /// A reader of `path`, which may not exist yet (the supervisor creates it).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            position: 0,
        }
    }

    /// The bytes written since the last read, at most [`MAX_READ_BYTES`], skipping the
    /// oldest when more than [`MAX_BACKLOG_BYTES`] wait. Nothing while the file is absent.
    pub fn read_new(&mut self) -> io::Result<NewBytes> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(file) => self.file = Some(file),
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(NewBytes::default()),
                Err(err) => return Err(err),
            }
        }
        let Some(file) = &mut self.file else {
            return Ok(NewBytes::default());
        };
        let len = file.metadata()?.len();
        let mut skipped = 0;
        if len.saturating_sub(self.position) > MAX_BACKLOG_BYTES {
            let from = len - MAX_READ_BYTES;
            skipped = from - self.position;
            self.position = from;
        }
        let want = len.saturating_sub(self.position).min(MAX_READ_BYTES);
        let mut bytes = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        file.seek(SeekFrom::Start(self.position))?;
        file.take(want).read_to_end(&mut bytes)?;
        self.position += bytes.len() as u64;
        Ok(NewBytes { skipped, bytes })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tee(path: PathBuf) -> impl FnMut(&[u8]) {
        let mut file = std::fs::File::options()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        move |bytes| file.write_all(bytes).unwrap()
    }

    #[test]
    fn a_reader_gets_each_byte_once_and_skips_a_backlog_to_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live");
        let mut reader = LiveFile::new(path.clone());
        assert_eq!(reader.read_new().unwrap(), NewBytes::default());
        let mut tee = tee(path);

        tee(b"one\n");
        assert_eq!(reader.read_new().unwrap().bytes, b"one\n");
        tee(b"two\n");
        assert_eq!(reader.read_new().unwrap().bytes, b"two\n");
        tee(&vec![b'x'; 2 * MAX_BACKLOG_BYTES as usize]);
        let read = reader.read_new().unwrap();

        assert_eq!(read.bytes.len() as u64, MAX_READ_BYTES);
        assert_eq!(read.skipped, 2 * MAX_BACKLOG_BYTES - MAX_READ_BYTES);
    }
}
