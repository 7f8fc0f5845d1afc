//! File tasks: reads inside the roots, writes and edits inside the write roots and under
//! their quota; git's own files never written.

use std::path::Path;

use base64::Engine as _;
use openclaw_shared::ContentEncoding;
use sha2::{Digest, Sha256};

use super::super::paths::ResolvedPath;
use super::super::quota::{self, Change};
use super::{deny, ruling, Checker, Ruling};
use crate::policy::{Decision, Plan, Verdict};

impl Checker<'_> {
    pub(super) fn read(&self, raw: &str) -> Decision {
        let mut plan = Plan::default();
        let ruling = self.read_ruling(raw, &mut plan).unwrap_or_else(|r| r);
        ruling.with(plan)
    }

    fn read_ruling(&self, raw: &str, plan: &mut Plan) -> Result<Ruling, Ruling> {
        let path = self.resolve(raw, &self.env.default_cwd)?;
        plan.paths.push(path.real.clone());
        if let Some(ruling) = self.path_denial(&path, false) {
            return Err(ruling);
        }
        self.check_existing(&path.real)?;
        Ok(match self.roots.any_root_for(&path.real) {
            Some(root) => ruling(Verdict::Allow, root.key.clone(), "inside a read root"),
            None => self.default_ruling("this path"),
        })
    }

    /// Refuses an existing target that is not a regular file or is over the read limit.
    fn check_existing(&self, real: &Path) -> Result<(), Ruling> {
        let Ok(meta) = std::fs::metadata(real) else {
            return Ok(());
        };
        let limit = self.policy.limits.max_read_bytes;
        if !meta.is_file() {
            Err(deny("path", "is not a regular file"))
        } else if meta.len() > limit {
            Err(deny(
                "limits.max_read_bytes",
                format!("file is over {limit} bytes"),
            ))
        } else {
            Ok(())
        }
    }

    pub(super) fn write(&self, raw: &str, content: &str, encoding: ContentEncoding) -> Decision {
        let mut plan = Plan::default();
        let ruling = self
            .write_content(content, encoding, &mut plan)
            .and_then(|len| self.write_ruling(raw, Change::Write { len }, &mut plan))
            .unwrap_or_else(|r| r);
        ruling.with(plan)
    }

    pub(super) fn edit(&self, raw: &str, old: &str, new: &str, replace_all: bool) -> Decision {
        let mut plan = Plan::default();
        let change = Change::Edit {
            old_len: old.len() as u64,
            new_len: new.len() as u64,
            replace_all,
        };
        let ruling = self
            .write_ruling(raw, change, &mut plan)
            .unwrap_or_else(|r| r);
        ruling.with(plan)
    }

    /// Decodes, hashes (into the plan) and measures a write's content; returns its length.
    fn write_content(
        &self,
        content: &str,
        encoding: ContentEncoding,
        plan: &mut Plan,
    ) -> Result<u64, Ruling> {
        let bytes = match encoding {
            ContentEncoding::Utf8 => content.as_bytes().to_vec(),
            ContentEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(content)
                .map_err(|_| deny("content", "content is not valid base64"))?,
        };
        plan.content_sha256 = Some(Sha256::digest(&bytes).into());
        let limit = self.policy.limits.max_write_bytes;
        let len = bytes.len() as u64;
        if len > limit {
            return Err(deny(
                "limits.max_write_bytes",
                format!("content is over {limit} bytes"),
            ));
        }
        Ok(len)
    }

    /// A write or an edit of `raw`, leaving it as `change` says.
    fn write_ruling(&self, raw: &str, change: Change, plan: &mut Plan) -> Result<Ruling, Ruling> {
        let path = self.resolve(raw, &self.env.default_cwd)?;
        plan.paths.push(path.real.clone());
        if let Some(ruling) = self.path_denial(&path, true) {
            return Err(ruling);
        }
        self.check_existing(&path.real)?;
        let Some(root) = self.roots.write_root_for(&path.real) else {
            return Ok(self.default_ruling("this path"));
        };
        self.check_quota(&root.real, &root.key, &path, change)?;
        Ok(ruling(
            Verdict::Allow,
            root.key.clone(),
            "inside a write root",
        ))
    }

    /// Refuses a write that would take the write root `root` over its quota.
    fn check_quota(
        &self,
        root: &Path,
        key: &str,
        path: &ResolvedPath,
        change: Change,
    ) -> Result<(), Ruling> {
        let quota_bytes = self.policy.paths.write_quota_bytes;
        let used = quota::usage(root, quota::MAX_QUOTA_ENTRIES).map_err(|err| {
            deny(
                "paths.write_quota_bytes",
                format!("the write root {key} {err}"),
            )
        })?;
        let current = std::fs::symlink_metadata(&path.real)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or(0, |meta| meta.len());
        let after = used
            .saturating_sub(current)
            .saturating_add(change.size_after(current));
        if after > quota_bytes {
            return Err(deny(
                "paths.write_quota_bytes",
                format!(
                    "the write root {key} would hold {after} bytes, over its quota of \
                     {quota_bytes}"
                ),
            ));
        }
        Ok(())
    }
}
