//! The rule set's files as read: from the policy directory or the ones built
//! in, with the version that names them and the error that names a file and
//! a place. Compiling them is `loader`'s job.

use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::json;

/// The policies shipped with this build (the repository's `policies/`).
static EMBEDDED_POLICIES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/policies");

pub(super) const MANIFEST: &str = "ruleset.json";
const POLICY_SUFFIX: &str = ".policy.json";

/// A file of the rule set, as read.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub file_name: String,
    pub text: String,
}

/// Where the rule set came from.
#[derive(Debug, Clone)]
pub enum PolicyOrigin {
    Embedded,
    Directory(PathBuf),
}

impl fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyOrigin::Embedded => f.write_str("the policies built into this binary"),
            PolicyOrigin::Directory(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// A policy file that cannot be used, with the place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    /// JSON pointer inside the file ("" for the whole file).
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "policy file {}: {}", self.file, self.message)
        } else {
            write!(f, "policy file {} at {}: {}", self.file, self.pointer, self.message)
        }
    }
}

impl std::error::Error for PolicyError {}

pub(super) fn err(file: &str, pointer: &str, message: impl Into<String>) -> PolicyError {
    PolicyError { file: file.to_string(), pointer: pointer.to_string(), message: message.into() }
}

/// Reads the rule set from a directory, or the embedded one when `dir` is None.
pub fn read_sources(dir: Option<&Path>) -> Result<(Vec<PolicySource>, PolicyOrigin), PolicyError> {
    let mut sources = Vec::new();
    let origin = match dir {
        None => {
            for file in EMBEDDED_POLICIES.files() {
                let name = file.path().to_string_lossy().to_string();
                if is_rule_set_file(&name) {
                    let text = file.contents_utf8().ok_or_else(|| err(&name, "", "the file is not UTF-8"))?;
                    sources.push(PolicySource { file_name: name, text: text.to_string() });
                }
            }
            PolicyOrigin::Embedded
        }
        Some(dir) => {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| err(&dir.display().to_string(), "", format!("cannot read the directory: {e}")))?;
            for entry in entries {
                let entry = entry.map_err(|e| err(&dir.display().to_string(), "", e.to_string()))?;
                let name = entry.file_name().to_string_lossy().to_string();
                if is_rule_set_file(&name) {
                    let text = std::fs::read_to_string(entry.path())
                        .map_err(|e| err(&name, "", format!("cannot read the file: {e}")))?;
                    sources.push(PolicySource { file_name: name, text });
                }
            }
            PolicyOrigin::Directory(dir.to_path_buf())
        }
    };
    sources.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok((sources, origin))
}

fn is_rule_set_file(name: &str) -> bool {
    name == MANIFEST || (name.ends_with(POLICY_SUFFIX) && !name.contains('/'))
}

/// The rule-set version: the declared name plus a digest of every file, so
/// that it changes whenever any policy file changes.
pub fn rule_set_version(name: &str, sources: &[PolicySource]) -> String {
    let mut material = Vec::new();
    for s in sources {
        material.extend_from_slice(s.file_name.as_bytes());
        material.push(0);
        material.extend_from_slice(s.text.len().to_string().as_bytes());
        material.push(0);
        material.extend_from_slice(s.text.as_bytes());
    }
    let digest = json::sha256_hex(&material);
    format!("{name}+{}", &digest[..12])
}
