//! Names of the files the bot attaches in Discord. A name comes from a path or a worker the
//! attacker may choose, and Discord decides how to show a file by its name alone: a
//! right-to-left override can make `gpj.exe` read as `exe.jpg`, and `invoice.pdf.exe` is
//! one click from being run. So names keep only plain characters, and the extension must
//! agree with the bytes: images get their real image extension, anything that would show
//! as an image or run as a program without being one gets `.txt` or `.bin` appended.

use openclaw_shared::worker::sniff_image_type;

/// Longest attachment name, in bytes (Discord allows more; nobody reads more).
const MAX_NAME_LEN: usize = 100;
/// Extensions Discord shows inline as pictures or video.
const SHOWN_INLINE: [&str; 9] = [
    "png", "jpg", "jpeg", "gif", "webp", "svg", "mp4", "mov", "webm",
];
/// Extensions a desktop runs or installs on a click (Windows, macOS, scripts).
const RUNNABLE: [&str; 24] = [
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "cpl", "hta", "jar", "js", "jse",
    "vbs", "vbe", "wsf", "ps1", "lnk", "reg", "app", "command", "pkg", "dmg", "html",
];

/// The attachment name for `bytes` that were read from (or named) `path`: its last component
/// with plain characters only and an extension that matches the content.
pub fn attachment_name(path: &str, bytes: &[u8]) -> String {
    let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let plain: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut name = plain.trim_start_matches('.').to_owned();
    if name.is_empty() || name.chars().all(|c| c == '_') {
        name = "file".to_owned();
    }
    truncate(&mut name, MAX_NAME_LEN);
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    if let Some(image) = sniff_image_type(bytes) {
        let real = image.trim_start_matches("image/");
        let real = if real == "jpeg" { "jpg" } else { real };
        if extension == real || (real == "jpg" && extension == "jpeg") {
            return name;
        }
        return format!("{name}.{real}");
    }
    let disguised =
        SHOWN_INLINE.contains(&extension.as_str()) || RUNNABLE.contains(&extension.as_str());
    if !disguised {
        return name;
    }
    let suffix = if std::str::from_utf8(bytes).is_ok() {
        "txt"
    } else {
        "bin"
    };
    format!("{name}.{suffix}")
}

fn truncate(name: &mut String, limit: usize) {
    // Plain ASCII by now: any byte index is a character boundary.
    if name.len() > limit {
        name.truncate(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn names_are_the_last_component_and_never_empty() {
        assert_eq!(attachment_name("/a/b/c.txt", b"hi"), "c.txt");
        assert_eq!(attachment_name("dir/", b""), "dir");
        assert_eq!(attachment_name("/", b""), "file");
        assert_eq!(attachment_name("..", b""), "file");
        assert_eq!(attachment_name("a\nb", b""), "a_b");
        assert_eq!(attachment_name(".hidden", b""), "hidden");
    }

    #[test]
    fn a_right_to_left_override_cannot_disguise_a_program() {
        let name = attachment_name("/tmp/invoice\u{202e}gpj.exe", b"MZ\x90\0");

        assert!(name.is_ascii(), "{name}");
        assert!(!name.contains('\u{202e}'));
        assert_eq!(name, "invoice_gpj.exe.bin");
    }

    #[test]
    fn programs_and_fake_pictures_get_a_harmless_extension() {
        assert_eq!(attachment_name("run.exe", b"MZ\x90\0"), "run.exe.bin");
        assert_eq!(
            attachment_name("notes.sh.command", b"echo hi"),
            "notes.sh.command.txt"
        );
        assert_eq!(attachment_name("cat.jpg", b"not a picture"), "cat.jpg.txt");
        assert_eq!(attachment_name("report.pdf", b"%PDF-1.7"), "report.pdf");
    }

    #[test]
    fn pictures_keep_or_get_their_real_extension() {
        assert_eq!(attachment_name("shot.png", PNG), "shot.png");
        assert_eq!(attachment_name("shot.jpg", PNG), "shot.jpg.png");
        assert_eq!(attachment_name("shot.exe", PNG), "shot.exe.png");
    }

    #[test]
    fn long_names_are_cut() {
        let name = attachment_name(&"a".repeat(500), b"x");

        assert_eq!(name.len(), MAX_NAME_LEN);
    }
}
